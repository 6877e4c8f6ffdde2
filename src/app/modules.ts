/**
 * Which modules `roomd run` composes, in start order. Each later layer adds its module here.
 */
import type { Module } from '../core/lifecycle.ts';
import type { DaemonContext } from './daemon.ts';

export async function daemonModules(_ctx: DaemonContext): Promise<Module[]> {
  return [];
}
