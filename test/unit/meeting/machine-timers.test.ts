// The machine's timer effects on a clock (src/meeting/machine-timers.ts), as both shells run them:
// one tick however often it is started, a join deadline that fires once unless disarmed or re-armed,
// and nothing after clear().
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { MachineTimers } from '../../../src/meeting/machine-timers.ts';
import type { MeetingEvent } from '../../../src/meeting/machine-types.ts';

function setup() {
  const clock = new FakeClock();
  const events: MeetingEvent['type'][] = [];
  return { clock, events, timers: new MachineTimers(clock, (e) => events.push(e.type)) };
}

describe('MachineTimers', () => {
  it('runs one tick however often it is started, until stopped', () => {
    const { clock, events, timers } = setup();
    timers.apply({ type: 'start-tick', everyMs: 100 });
    timers.apply({ type: 'start-tick', everyMs: 100 });
    clock.advance(350);
    expect(events).toEqual(['tick', 'tick', 'tick']);
    timers.apply({ type: 'stop-tick' });
    clock.advance(500);
    expect(events).toHaveLength(3);
  });

  it('fires the join deadline once; re-arming moves it, disarming and clear() cancel it', () => {
    const { clock, events, timers } = setup();
    timers.apply({ type: 'arm-join-deadline', afterMs: 1000 });
    clock.advance(600);
    timers.apply({ type: 'arm-join-deadline', afterMs: 1000 });
    clock.advance(600);
    expect(events).toEqual([]);
    clock.advance(500);
    expect(events).toEqual(['join-deadline']);
    timers.apply({ type: 'arm-join-deadline', afterMs: 100 });
    timers.apply({ type: 'disarm-join-deadline' });
    timers.apply({ type: 'arm-join-deadline', afterMs: 100 });
    timers.apply({ type: 'start-tick', everyMs: 50 });
    timers.clear();
    clock.advance(1000);
    expect(events).toEqual(['join-deadline']);
  });
});
