//! `flush`: the host's timer re-sends what the handover's outbox still holds, in order,
//! with the same delivery pass a user message makes, only without a new item.

use super::{ignored, outcome};
use crate::genesys::Client;
use crate::model::*;
use crate::outbox;
use crate::ports::Env;
use crate::settings::ProviderSettings;
use crate::state;

/// `flush`: deliver the outbox; `delivery-pending` while something still waits.
pub fn flush(env: &Env, user_id: &str) -> Result<Outcome, Error> {
    let provider = ProviderSettings::load(env.config)?;
    let Some(h) = state::handover::load(env.kv, user_id)? else {
        return Ok(ignored(Some(user_id.to_string()), Warning::NoOpenHandover));
    };
    let client = Client::new(env, &provider);
    let warnings = outbox::deliver(&client, &h, &[])?;
    Ok(outcome(&h, Vec::new(), warnings))
}
