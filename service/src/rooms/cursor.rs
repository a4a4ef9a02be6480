//! The directory's paging cursor: the last room's name key and id, hex-encoded so it is
//! opaque to clients and survives any name.

use domain::ApiError;

use crate::{error::ServiceResult, ServiceError};

pub(super) fn encode_cursor(name_key: &str, id: &str) -> String {
    format!("{name_key}\u{1f}{id}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn decode_cursor(cursor: &str) -> ServiceResult<(String, String)> {
    let bad = || -> ServiceError {
        ApiError::invalid_field("cursor", "That cursor is not one this server gave out.").into()
    };
    if !cursor.len().is_multiple_of(2) || cursor.len() > 1024 {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
        .collect();
    let text = bytes
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (name_key, id) = text.split_once('\u{1f}').ok_or_else(bad)?;
    Ok((name_key.to_owned(), id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode_cursor("lounge é", "abc123");
        assert_eq!(
            decode_cursor(&c).unwrap(),
            ("lounge é".to_owned(), "abc123".to_owned())
        );
        for bad in ["zz", "abc", "", "00"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }
}
