//! Column types whose storage differs by backend. A list of names is a `text[]` on PostgreSQL
//! and a JSON array in a `TEXT` column on SQLite (which has no arrays); a stored document is
//! `json` on PostgreSQL, which keeps its text exactly as written, and `TEXT` on SQLite.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

/// A list of strings in one column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextList(pub Vec<String>);

impl Type<Postgres> for TextList {
    fn type_info() -> PgTypeInfo {
        <Vec<String> as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for TextList {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Vec<String> as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for TextList {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(<Vec<String> as Decode<Postgres>>::decode(value)?))
    }
}

impl Type<Sqlite> for TextList {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for TextList {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(serde_json::to_string(&self.0)?, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for TextList {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(serde_json::from_str(<&str as Decode<Sqlite>>::decode(value)?)?))
    }
}

/// A list of IDs as a query parameter: `uuid[]` on PostgreSQL, a JSON array of hex strings on
/// SQLite (compared with `unhex`, since SQLite stores a UUID as 16 bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdList(pub Vec<uuid::Uuid>);

impl Type<Postgres> for IdList {
    fn type_info() -> PgTypeInfo {
        <Vec<uuid::Uuid> as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for IdList {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Vec<uuid::Uuid> as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl Type<Sqlite> for IdList {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for IdList {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        let hex: Vec<String> = self.0.iter().map(|id| id.simple().to_string()).collect();
        <String as Encode<Sqlite>>::encode(serde_json::to_string(&hex)?, buf)
    }
}

/// A JSON document kept byte for byte as it was written (a webhook body, say). Written from a
/// borrowed `&str`, so that a body is not copied to be stored; read back as a `String`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText<T = String>(pub T);

/// PostgreSQL's `json` type (not `jsonb`, which would reorder keys and drop whitespace).
const PG_JSON: PgTypeInfo = PgTypeInfo::with_oid(sqlx::postgres::types::Oid(114));

impl<T> Type<Postgres> for JsonText<T> {
    fn type_info() -> PgTypeInfo {
        PG_JSON
    }
}

impl<T: AsRef<str>> Encode<'_, Postgres> for JsonText<T> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        // The binary form of `json` is its text.
        buf.extend_from_slice(self.0.as_ref().as_bytes());
        Ok(IsNull::No)
    }
}

impl<'r> Decode<'r, Postgres> for JsonText {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(<&str as Decode<Postgres>>::decode(value)?.to_owned()))
    }
}

impl<T> Type<Sqlite> for JsonText<T> {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for JsonText<&'q str> {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <&'q str as Encode<'q, Sqlite>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for JsonText {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(<&str as Decode<Sqlite>>::decode(value)?.to_owned()))
    }
}
