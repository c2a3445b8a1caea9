//! What every channel's sends share: the API's send request, the send job's
//! first step, refusals on record, and the delivery transition applied to
//! stored messages.

pub mod delivery;
pub mod prepared;
pub mod refusal;
pub mod request;
pub mod send_job;
