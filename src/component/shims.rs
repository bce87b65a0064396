//! The hooks' core exports, written here rather than by wit-bindgen's `export!`: each one
//! lifts its arguments with wit-bindgen's generated code (through [`Lift`], whose methods
//! only keep them), runs the hook, and lowers the result with the single hand-written
//! lowering in `lower.rs`, so that lowering is in the component once instead of six times.
//! `version` and `queue-status` keep wit-bindgen's code whole.

use super::exports::handover::genesys_om::hooks as gen;
use super::exports::handover::genesys_om::hooks::Guest;
use super::{lower, run, with_env};
use crate::hooks;
use crate::model as m;
use std::cell::UnsafeCell;

use super::handover::genesys_om::types as t;

/// A hook's lifted arguments, between wit-bindgen's lifting and the hook.
enum Args {
    Start(t::UserProfile, Vec<t::TranscriptEntry>, t::HandoverSettings),
    UserMessage(String, t::UserEvent),
    AgentMessage(t::Webhook),
    End(t::EndSignal),
    Flush(String),
    ReportDelivery(String, String, bool, Option<String>),
}

struct Kept(UnsafeCell<Option<Args>>);

// SAFETY: one thread, one export call at a time (see `lower::Last`).
unsafe impl Sync for Kept {}

static KEPT: Kept = Kept(UnsafeCell::new(None));

/// Keep a hook's arguments for [`call`]. Out of line: one copy of their drop code.
#[inline(never)]
fn keep(args: Args) {
    // SAFETY: see `Kept`.
    unsafe { *KEPT.0.get() = Some(args) };
}

/// What a [`Lift`] hook returns to wit-bindgen's code. It is never lowered for the host
/// (the shims return their own result); being a constant `Err` seen at every call, it
/// lets the compiler drop wit-bindgen's lowering of `outcome` from each lifting function.
#[inline(always)]
fn lifted() -> Result<t::Outcome, t::Error> {
    Err(t::Error::Storage(String::new()))
}

fn take() -> Option<Args> {
    // SAFETY: see `Kept`.
    unsafe { (*KEPT.0.get()).take() }
}

/// The [`Guest`] whose outcome hooks only keep their arguments.
struct Lift;

impl Guest for Lift {
    fn version() -> String {
        match option_env!("GENESYS_OM_BUILD_TAG") {
            Some(tag) if !tag.is_empty() => format!("{}+{tag}", env!("CARGO_PKG_VERSION")),
            _ => env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    #[inline(always)]
    fn start(
        user: t::UserProfile,
        transcript: Vec<t::TranscriptEntry>,
        settings: t::HandoverSettings,
    ) -> Result<t::Outcome, t::Error> {
        keep(Args::Start(user, transcript, settings));
        lifted()
    }

    #[inline(always)]
    fn user_message(user_id: String, event: t::UserEvent) -> Result<t::Outcome, t::Error> {
        keep(Args::UserMessage(user_id, event));
        lifted()
    }

    #[inline(always)]
    fn agent_message(webhook: t::Webhook) -> Result<t::Outcome, t::Error> {
        keep(Args::AgentMessage(webhook));
        lifted()
    }

    #[inline(always)]
    fn end(signal: t::EndSignal) -> Result<t::Outcome, t::Error> {
        keep(Args::End(signal));
        lifted()
    }

    #[inline(always)]
    fn flush(user_id: String) -> Result<t::Outcome, t::Error> {
        keep(Args::Flush(user_id));
        lifted()
    }

    #[inline(always)]
    fn report_delivery(
        user_id: String,
        message_id: String,
        delivered: bool,
        reason: Option<String>,
    ) -> Result<t::Outcome, t::Error> {
        keep(Args::ReportDelivery(user_id, message_id, delivered, reason));
        lifted()
    }

    fn queue_status(queue_id: Option<String>) -> Result<t::QueueFigures, t::Error> {
        with_env(|env| hooks::queue_status(env, queue_id.as_deref()))
    }
}

/// Run the hook the kept arguments are for, and lower its result.
fn call() -> *mut u8 {
    let result = match take() {
        Some(Args::Start(user, transcript, settings)) => {
            let user = m::UserProfile::from(user);
            let transcript: Vec<m::TranscriptEntry> =
                transcript.into_iter().map(Into::into).collect();
            let node = m::HandoverSettings::from(settings);
            run(|env| hooks::start(env, &user, &transcript, &node))
        }
        Some(Args::UserMessage(user_id, event)) => {
            let event = m::UserEvent::from(event);
            run(|env| hooks::user_message(env, &user_id, &event))
        }
        Some(Args::AgentMessage(webhook)) => {
            let webhook = m::Webhook::from(webhook);
            run(|env| hooks::agent_message(env, &webhook))
        }
        Some(Args::End(signal)) => {
            let signal = m::EndSignal::from(signal);
            run(|env| hooks::end(env, &signal))
        }
        Some(Args::Flush(user_id)) => run(|env| hooks::flush(env, &user_id)),
        Some(Args::ReportDelivery(user_id, message_id, delivered, reason)) => run(|env| {
            hooks::report_delivery(env, &user_id, &message_id, delivered, reason.as_deref())
        }),
        None => Err(m::Error::InvalidInput(
            "the hook's arguments were not lifted".into(),
        )),
    };
    lower::result(result)
}

#[unsafe(export_name = "handover:genesys-om/hooks@0.1.0#version")]
unsafe extern "C" fn export_version() -> *mut u8 {
    // SAFETY: the canonical ABI call, as `export!` would make it.
    unsafe { gen::_export_version_cabi::<Lift>() }
}

#[unsafe(export_name = "cabi_post_handover:genesys-om/hooks@0.1.0#version")]
unsafe extern "C" fn post_version(arg0: *mut u8) {
    // SAFETY: as above.
    unsafe { gen::__post_return_version::<Lift>(arg0) }
}

#[unsafe(export_name = "handover:genesys-om/hooks@0.1.0#queue-status")]
unsafe extern "C" fn export_queue_status(arg0: i32, arg1: *mut u8, arg2: usize) -> *mut u8 {
    // SAFETY: as above.
    unsafe { gen::_export_queue_status_cabi::<Lift>(arg0, arg1, arg2) }
}

#[unsafe(export_name = "cabi_post_handover:genesys-om/hooks@0.1.0#queue-status")]
unsafe extern "C" fn post_queue_status(arg0: *mut u8) {
    // SAFETY: as above.
    unsafe { gen::__post_return_queue_status::<Lift>(arg0) }
}

#[unsafe(export_name = "handover:genesys-om/hooks@0.1.0#start")]
unsafe extern "C" fn export_start(arg0: *mut u8) -> *mut u8 {
    // SAFETY: wit-bindgen's lifting of the host's arguments; its own result is not used.
    unsafe { gen::_export_start_cabi::<Lift>(arg0) };
    call()
}

#[unsafe(export_name = "handover:genesys-om/hooks@0.1.0#user-message")]
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn export_user_message(
    arg0: *mut u8,
    arg1: usize,
    arg2: i32,
    arg3: *mut u8,
    arg4: usize,
    arg5: *mut u8,
    arg6: *mut u8,
    arg7: usize,
    arg8: *mut u8,
    arg9: usize,
    arg10: *mut u8,
    arg11: usize,
) -> *mut u8 {
    // SAFETY: as in `export_start`.
    unsafe {
        gen::_export_user_message_cabi::<Lift>(
            arg0, arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10, arg11,
        )
    };
    call()
}

#[unsafe(export_name = "handover:genesys-om/hooks@0.1.0#agent-message")]
unsafe extern "C" fn export_agent_message(
    arg0: *mut u8,
    arg1: usize,
    arg2: *mut u8,
    arg3: usize,
) -> *mut u8 {
    // SAFETY: as in `export_start`.
    unsafe { gen::_export_agent_message_cabi::<Lift>(arg0, arg1, arg2, arg3) };
    call()
}

#[unsafe(export_name = "handover:genesys-om/hooks@0.1.0#end")]
unsafe extern "C" fn export_end(arg0: i32, arg1: *mut u8, arg2: usize) -> *mut u8 {
    // SAFETY: as in `export_start`.
    unsafe { gen::_export_end_cabi::<Lift>(arg0, arg1, arg2) };
    call()
}

#[unsafe(export_name = "handover:genesys-om/hooks@0.1.0#flush")]
unsafe extern "C" fn export_flush(arg0: *mut u8, arg1: usize) -> *mut u8 {
    // SAFETY: as in `export_start`.
    unsafe { gen::_export_flush_cabi::<Lift>(arg0, arg1) };
    call()
}

#[unsafe(export_name = "handover:genesys-om/hooks@0.1.0#report-delivery")]
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn export_report_delivery(
    arg0: *mut u8,
    arg1: usize,
    arg2: *mut u8,
    arg3: usize,
    arg4: i32,
    arg5: i32,
    arg6: *mut u8,
    arg7: usize,
) -> *mut u8 {
    // SAFETY: as in `export_start`.
    unsafe {
        gen::_export_report_delivery_cabi::<Lift>(arg0, arg1, arg2, arg3, arg4, arg5, arg6, arg7)
    };
    call()
}

macro_rules! post_return {
    ($($name:ident = $export:literal),* $(,)?) => {$(
        #[unsafe(export_name = $export)]
        unsafe extern "C" fn $name(_area: *mut u8) {
            lower::release();
        }
    )*};
}

post_return!(
    post_start = "cabi_post_handover:genesys-om/hooks@0.1.0#start",
    post_user_message = "cabi_post_handover:genesys-om/hooks@0.1.0#user-message",
    post_agent_message = "cabi_post_handover:genesys-om/hooks@0.1.0#agent-message",
    post_end = "cabi_post_handover:genesys-om/hooks@0.1.0#end",
    post_flush = "cabi_post_handover:genesys-om/hooks@0.1.0#flush",
    post_report_delivery = "cabi_post_handover:genesys-om/hooks@0.1.0#report-delivery",
);
