//! Where Rust panics stop.
//!
//! Unwinding a panic into C is undefined behaviour and would take Wireshark
//! down.  Every `extern "C"` function we hand to Wireshark runs its body
//! through [`catch`]; dissectors use [`crate::packet::dissector_entry`], which
//! turns a panic into expert info on the packet, and registration callbacks
//! use [`registration`], which reports on stderr (Wireshark's console).

use std::any::Any;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `body`; a panic becomes `Err(message)`.
///
/// `AssertUnwindSafe`: after a panic we never touch the state the body was
/// using again in that call; the worst case is a per-packet result missing.
pub fn catch<R>(body: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(body)).map_err(|payload| panic_message(payload.as_ref()))
}

/// For callbacks with nobody to return an error to (plugin_register,
/// protocol registration, handoff): report on stderr and carry on.
pub fn registration(what: &str, body: impl FnOnce()) {
    if let Err(message) = catch(body) {
        report(&format!("internal error in {what}: {message}"));
    }
}

/// One line on stderr, never panicking (stderr may be closed).
pub fn report(message: &str) {
    let _ = writeln!(std::io::stderr(), "pktmatch: {message}");
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-text payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_returns_value_or_panic_text() {
        assert_eq!(catch(|| 7), Ok(7));
        let err = catch(|| -> i32 { panic!("bad length {}", 3) }).unwrap_err();
        assert_eq!(err, "bad length 3");
        let err = catch(|| -> i32 { std::panic::panic_any(42u8) }).unwrap_err();
        assert_eq!(err, "panic with a non-text payload");
    }
}
