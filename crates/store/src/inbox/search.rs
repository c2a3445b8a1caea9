//! Full-text search over message text and contact names. The user's words are
//! reduced to letters and digits (so nothing they type is query syntax) and
//! each word matches as a prefix: "ped" finds "pedido". Quarantined messages
//! are never searched: SQLite's triggers never index them and the PostgreSQL
//! index and query both exclude them.

use crate::BackendKind;

/// Accents folded on PostgreSQL, the same in migration 0004's index
/// expressions (SQLite's `unicode61 remove_diacritics 2` tokenizer does it
/// there).
pub const PG_FOLD_FROM: &str = "áàâãäåāăąéèêëēėęěíìîïīįóòôõöøōőúùûüūůűųýÿçćčñńňłśšşźżžďťřğ";
pub const PG_FOLD_TO: &str = "aaaaaaaaaeeeeeeeeiiiiiioooooooouuuuuuuuyycccnnnlssszzzdtrg";

/// Most words a search uses; more are ignored.
const MAX_TERMS: usize = 8;
/// Digits that make a search also look for a phone number ending with them.
const MIN_PHONE_DIGITS: usize = 6;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// Lower-case words of letters and digits.
    pub terms: Vec<String>,
    /// The digits of a search that looks like a phone number.
    pub phone_digits: Option<String>,
}

impl SearchQuery {
    /// None when the text has no word to look for.
    pub fn parse(text: &str) -> Option<SearchQuery> {
        let terms: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .take(MAX_TERMS)
            .collect();
        if terms.is_empty() {
            return None;
        }
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let phone_like = text.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        Some(SearchQuery {
            terms,
            phone_digits: (phone_like && digits.len() >= MIN_PHONE_DIGITS).then_some(digits),
        })
    }

    /// The query string for the backend's full-text matcher.
    pub fn matcher(&self, kind: BackendKind) -> String {
        crate::Dialect(kind).text_matcher(&self.terms, fold)
    }
}

fn fold(term: &str) -> String {
    term.chars()
        .map(|c| match PG_FOLD_FROM.chars().position(|f| f == c) {
            Some(i) => PG_FOLD_TO.chars().nth(i).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// The indexed expression of `messages_search` (migration 0004).
pub fn pg_message_vector(alias: &str) -> String {
    format!("to_tsvector('simple'::regconfig, translate(lower(coalesce({alias}.text, '')), '{PG_FOLD_FROM}', '{PG_FOLD_TO}'))")
}

/// The indexed expression of `contacts_name_search` (migration 0004).
pub fn pg_contact_vector(alias: &str) -> String {
    format!(
        "to_tsvector('simple'::regconfig, translate(lower(coalesce({alias}.properties::jsonb ->> 'firstname', '') || ' ' || \
         coalesce({alias}.properties::jsonb ->> 'lastname', '')), '{PG_FOLD_FROM}', '{PG_FOLD_TO}'))"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_reduced_to_letters_and_digits_so_nothing_typed_is_syntax() {
        let q = SearchQuery::parse("Olá \"pedido\" OR* (4521)").unwrap();
        assert_eq!(q.terms, ["olá", "pedido", "or", "4521"]);
        assert_eq!(q.matcher(BackendKind::Sqlite), "\"olá\"* \"pedido\"* \"or\"* \"4521\"*");
        assert_eq!(q.matcher(BackendKind::Postgres), "ola:* & pedido:* & or:* & 4521:*");
        assert_eq!(q.phone_digits, None);
        assert!(SearchQuery::parse(" !? ").is_none());
    }

    #[test]
    fn a_number_also_searches_phone_numbers() {
        let q = SearchQuery::parse("+55 11 91234-5678").unwrap();
        assert_eq!(q.phone_digits.as_deref(), Some("5511912345678"));
        assert_eq!(SearchQuery::parse("1234").unwrap().phone_digits, None);
    }

    #[test]
    fn the_fold_tables_pair_up_and_match_the_postgres_migration() {
        assert_eq!(PG_FOLD_FROM.chars().count(), PG_FOLD_TO.chars().count());
        let migration = include_str!("../../migrations/postgres/0004_inbox.sql");
        let squash = |s: &str| s.split_whitespace().collect::<String>();
        let migration = squash(migration);
        assert!(migration.contains(&squash(&pg_message_vector("x").replace("x.", ""))));
        assert!(migration.contains(&squash(&pg_contact_vector("x").replace("x.", ""))));
    }
}
