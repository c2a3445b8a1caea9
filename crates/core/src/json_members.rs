//! Members of request bodies that must be JSON objects. A struct derived
//! with serde also reads from an array (its fields by position), which no
//! client means; these refuse it.

use serde::de::{DeserializeOwned, Error};
use serde::{Deserialize, Deserializer};

/// An object member read into `T`; anything else (an array too) is refused.
pub fn object<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<T, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    if !value.is_object() {
        return Err(D::Error::custom("invalid type: expected an object"));
    }
    T::deserialize(value).map_err(D::Error::custom)
}

/// An optional object member: absent or `null` is `None`.
pub fn optional_object<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        value if value.is_object() => T::deserialize(value).map(Some).map_err(D::Error::custom),
        _ => Err(D::Error::custom("invalid type: expected an object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Inner {
        a: u8,
    }

    #[derive(Deserialize, Debug)]
    struct Outer {
        #[serde(deserialize_with = "object")]
        inner: Inner,
        #[serde(default, deserialize_with = "optional_object")]
        maybe: Option<Inner>,
    }

    #[test]
    fn members_read_from_objects_only() {
        let o: Outer = serde_json::from_str(r#"{"inner": {"a": 1}, "maybe": null}"#).unwrap();
        assert_eq!((o.inner, o.maybe), (Inner { a: 1 }, None));
        let o: Outer = serde_json::from_str(r#"{"inner": {"a": 1}, "maybe": {"a": 2}}"#).unwrap();
        assert_eq!(o.maybe, Some(Inner { a: 2 }));
        assert!(serde_json::from_str::<Outer>(r#"{"inner": [1]}"#).is_err());
        assert!(serde_json::from_str::<Outer>(r#"{"inner": {"a": 1}, "maybe": [2]}"#).is_err());
    }
}
