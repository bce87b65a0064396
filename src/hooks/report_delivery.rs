//! `report-delivery`: the host says whether an agent message reached the user, and Genesys
//! gets a `Delivered` or `Failed` receipt, so the agent sees messages that never arrived.

use super::{no_handover, outcome};
use crate::genesys::inbound::{self, Kind};
use crate::genesys::Client;
use crate::model::*;
use crate::ports::Env;
use crate::settings::ProviderSettings;
use crate::state;
use crate::time::iso8601;

/// `report-delivery`: send Genesys a delivery receipt for an agent message.
pub fn report_delivery(
    env: &Env,
    user_id: &str,
    message_id: &str,
    delivered: bool,
    reason: Option<&str>,
) -> Result<Outcome, Error> {
    let provider = ProviderSettings::load(env.config)?;
    let Some(h) = state::handover::load(env.kv, user_id)? else {
        return Err(no_handover(user_id));
    };
    if message_id.is_empty() {
        return Err(Error::InvalidInput("message-id is empty".into()));
    }
    let client = Client::new(env, &provider);
    let now = iso8601(env.clock.now_ms());
    let body = inbound::receipt(user_id, message_id, &now, delivered, reason);
    client.send_inbound(&h.integration_id, Kind::Receipt, &body, false)?;
    Ok(outcome(&h, Vec::new(), Vec::new()))
}
