export { type BanEventOccurrence, recordBanEvent } from './ban-events.js';
export { activeBans, addBan, removeBan } from './ban-list.js';
export { canonicalBanValue, InvalidBanError } from './ban-value.js';
