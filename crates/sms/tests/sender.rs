//! Sender id validation (SPEC §5).

use recado_sms::{validate_sender, Sender, SenderError};

#[test]
fn numeric_senders_accept_digits_and_a_leading_plus() {
    assert_eq!(
        validate_sender("+351912345678"),
        Ok(Sender::Numeric("+351912345678".into()))
    );
    assert_eq!(validate_sender("12345"), Ok(Sender::Numeric("12345".into())));
    assert_eq!(validate_sender("123456789012345").unwrap().as_str(), "123456789012345");
}

#[test]
fn numeric_senders_have_at_most_15_digits() {
    assert_eq!(
        validate_sender("1234567890123456"),
        Err(SenderError::NumericTooLong { digits: 16 })
    );
    assert_eq!(
        validate_sender("+1234567890123456"),
        Err(SenderError::NumericTooLong { digits: 16 })
    );
}

#[test]
fn plus_followed_by_letters_is_rejected() {
    let err = validate_sender("+12ab").unwrap_err();
    assert_eq!(
        err,
        SenderError::NotADigit {
            found: 'a',
            position: 4
        }
    );
    assert!(err.to_string().contains("only contain digits"));
    assert_eq!(validate_sender("+"), Err(SenderError::NoDigits));
}

#[test]
fn alphanumeric_senders_accept_letters_digits_and_spaces_up_to_11() {
    assert_eq!(validate_sender("ACME"), Ok(Sender::Alphanumeric("ACME".into())));
    assert_eq!(
        validate_sender("Loja 24 SA").unwrap(),
        Sender::Alphanumeric("Loja 24 SA".into())
    );
    assert!(validate_sender("ABCDEFGHIJK").unwrap().is_alphanumeric());
}

#[test]
fn alphanumeric_senders_longer_than_11_are_rejected() {
    let err = validate_sender("ABCDEFGHIJKL").unwrap_err();
    assert_eq!(err, SenderError::AlphanumericTooLong { chars: 12 });
    assert_eq!(
        err.to_string(),
        "alphanumeric sender has 12 characters; at most 11 are allowed"
    );
}

#[test]
fn alphanumeric_senders_need_a_letter() {
    assert_eq!(validate_sender("12 34"), Err(SenderError::NoLetter));
}

#[test]
fn other_characters_are_rejected_with_their_position() {
    assert_eq!(
        validate_sender("ACME-SHOP"),
        Err(SenderError::InvalidCharacter {
            found: '-',
            position: 5
        })
    );
    assert_eq!(
        validate_sender("Promoção"),
        Err(SenderError::InvalidCharacter {
            found: 'ç',
            position: 6
        })
    );
    assert_eq!(validate_sender(""), Err(SenderError::Empty));
    assert_eq!(validate_sender(" ACME"), Err(SenderError::SurroundingSpace));
}

#[test]
fn sender_displays_its_string() {
    assert_eq!(validate_sender("ACME").unwrap().to_string(), "ACME");
}
