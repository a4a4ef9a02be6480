//! Every validated text type: any string is accepted or refused with `invalid_input` on its
//! field, never a panic; what is accepted keeps the type's promises.
#![no_main]
use domain::{
    message::{self, ClientId, MessageBody},
    room::{parse_reason, parse_topic, RoomName},
    text, ErrorCode, Username,
};
use libfuzzer_sys::fuzz_target;

fn refused_well(e: &domain::ApiError, field: &str) {
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some(field));
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        // Bytes that are not UTF-8 still go through the file checks.
        let _ = message::sniff_content_type(data);
        return;
    };
    match MessageBody::parse(s) {
        Ok(b) => {
            let b = b.as_str();
            assert!(!b.is_empty() && b.chars().count() <= message::BODY_MAX);
            assert!(!b.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
        }
        Err(e) => refused_well(&e, "body"),
    }
    match RoomName::parse(s) {
        Ok(n) => {
            assert!(!n
                .as_str()
                .chars()
                .any(|c| c.is_control() || text::is_bidi_control(c) || text::is_invisible(c)));
            // The key is stable: folding a key changes nothing.
            assert_eq!(domain::room::fold(&n.key()), n.key());
        }
        Err(e) => refused_well(&e, "name"),
    }
    match ClientId::parse(s) {
        Ok(id) => assert!(!id.into_string().contains('\0')),
        Err(e) => refused_well(&e, "client_id"),
    }
    match Username::parse(s) {
        Ok(u) => assert!(u.as_str().is_ascii()),
        Err(e) => refused_well(&e, "username"),
    }
    if let Err(e) = parse_topic(Some(s)) {
        refused_well(&e, "topic");
    }
    if let Err(e) = parse_reason(Some(s)) {
        refused_well(&e, "reason");
    }
    let name = message::sanitize_file_name(s);
    assert!(!name.is_empty() && name.chars().count() <= 200);
    assert!(!name.chars().any(|c| c.is_control()
        || text::is_bidi_control(c)
        || text::is_invisible(c)
        || matches!(c, '/' | '\\' | '"' | '<' | '>')));
    let _ = message::sniff_content_type(data);
});
