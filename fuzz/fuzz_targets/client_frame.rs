//! The live channel's frame decoder: any bytes a client sends decode to a frame or to an
//! error, never a panic; a decoded frame survives a round trip unchanged.
#![no_main]
use domain::wire::ClientFrame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = serde_json::from_slice::<ClientFrame>(data) {
        let again = serde_json::to_vec(&frame).expect("a decoded frame encodes");
        let back: ClientFrame = serde_json::from_slice(&again).expect("and decodes again");
        assert_eq!(back, frame);
    }
});
