//! Opaque ids: random, so nobody can walk them in sequence.

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// 20 characters of `[0-9a-z]`: about 103 bits of randomness.
pub fn new_id() -> String {
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_20_lowercase_alphanumerics_and_do_not_repeat() {
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 20 && id.bytes().all(|b| ALPHABET.contains(&b))));
    }
}
