/**
 * Context strings of E2EE protocol version 1 (docs/protocol.md "Context strings"). Every signature,
 * MAC, KDF and AAD starts from one of these, so no value can be replayed in another role.
 */
export const CONTEXT = Object.freeze({
  binding: 'roomd-e2ee v1 binding',
  heartbeat: 'roomd-e2ee v1 heartbeat',
  roster: 'roomd-e2ee v1 roster',
  pair: 'roomd-e2ee v1 pair secret',
  wrap: 'roomd-e2ee v1 key wrap',
  ack: 'roomd-e2ee v1 key ack',
  media: 'roomd-e2ee v1 media key',
  enhanced: 'roomd-e2ee v1 enhanced media key',
  securityCode: 'roomd-e2ee v1 security code',
  certificate: 'roomd-e2ee v1 identity certificate',
  rosterCode: 'roomd-e2ee v1 roster code',
  policy: 'roomd-e2ee v1 meeting policy',
  direct: 'roomd-e2ee v1 direct secret',
  directMessage: 'roomd-e2ee v1 direct message',
});
