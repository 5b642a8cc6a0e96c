//! `#[derive(Message)]` and `#[zerocodec::message]`: names, versions, and schema fingerprints
//! that change with every wire-relevant edit and with nothing else.
#![allow(
    dead_code,
    missing_docs,
    unreachable_pub,
    reason = "the fixtures exist for their fingerprints; most fields are never read"
)]

use zerocodec::prelude::*;
use zerocodec::{Message, Schema, combine_fingerprints, fnv1a_64};
use zerocodec_codecs::{JsonCodec, RkyvCodec};

/// Declares two versions of a type `Msg` (plus any helpers) in modules `$m::a` and `$m::b`.
macro_rules! pair {
    ($m:ident { $($a:tt)* } { $($b:tt)* }) => {
        mod $m {
            pub mod a {
                #[allow(unused_imports, reason = "not every fixture derives Message")]
                use zerocodec::Message;
                $($a)*
            }
            pub mod b {
                #[allow(unused_imports, reason = "not every fixture derives Message")]
                use zerocodec::Message;
                $($b)*
            }
        }
    };
}

/// `(what changed, fingerprint of a, fingerprint of b)` for each pair.
macro_rules! table {
    ($($m:ident),* $(,)?) => {
        [$((
            stringify!($m),
            $m::a::Msg::SCHEMA_FINGERPRINT,
            $m::b::Msg::SCHEMA_FINGERPRINT,
        )),*]
    };
}

// ---- Pairs that differ in one wire-relevant way. ----

pair!(field_renamed
    { #[derive(Message)] pub struct Msg { id: u64, text: String } }
    { #[derive(Message)] pub struct Msg { id: u64, body: String } });
pair!(fields_reordered
    { #[derive(Message)] pub struct Msg { id: u64, text: String } }
    { #[derive(Message)] pub struct Msg { text: String, id: u64 } });
pair!(field_retyped
    { #[derive(Message)] pub struct Msg { id: u64, text: String } }
    { #[derive(Message)] pub struct Msg { id: u32, text: String } });
pair!(field_added
    { #[derive(Message)] pub struct Msg { id: u64 } }
    { #[derive(Message)] pub struct Msg { id: u64, text: String } });
pair!(tuple_field_retyped
    { #[derive(Message)] pub struct Msg(u8, String); }
    { #[derive(Message)] pub struct Msg(i8, String); });
pair!(unit_vs_empty_braces
    { #[derive(Message)] pub struct Msg; }
    { #[derive(Message)] pub struct Msg {} });
pair!(tuple_vs_named
    { #[derive(Message)] pub struct Msg(u64); }
    { #[derive(Message)] pub struct Msg { _0: u64 } });
pair!(version_bumped
    { #[derive(Message)] #[message(version = 1)] pub struct Msg { id: u64 } }
    { #[derive(Message)] #[message(version = 2)] pub struct Msg { id: u64 } });
pair!(name_attribute_changed
    { #[derive(Message)] #[message(name = "chat.Msg")] pub struct Msg { id: u64 } }
    { #[derive(Message)] #[message(name = "chat.Message")] pub struct Msg { id: u64 } });
pair!(variant_added
    { #[derive(Message)] pub enum Msg { Query, Mutation } }
    { #[derive(Message)] pub enum Msg { Query, Mutation, Subscription } });
pair!(variant_renamed
    { #[derive(Message)] pub enum Msg { Query, Mutation } }
    { #[derive(Message)] pub enum Msg { Query, Write } });
pair!(variants_reordered
    { #[derive(Message)] pub enum Msg { Query, Mutation } }
    { #[derive(Message)] pub enum Msg { Mutation, Query } });
pair!(variant_field_retyped
    { #[derive(Message)] pub enum Msg { Point, Circle(f32) } }
    { #[derive(Message)] pub enum Msg { Point, Circle(f64) } });
pair!(variant_kind_changed
    { #[derive(Message)] pub enum Msg { Point, Circle(f64) } }
    { #[derive(Message)] pub enum Msg { Point, Circle { r: f64 } } });
pair!(discriminant_changed
    { #[derive(Message)] #[repr(u8)] pub enum Msg { Query = 1, Mutation = 2 } }
    { #[derive(Message)] #[repr(u8)] pub enum Msg { Query = 1, Mutation = 3 } });
pair!(repr_changed
    { #[derive(Message)] #[repr(u8)] pub enum Msg { Query, Mutation } }
    { #[derive(Message)] #[repr(u16)] pub enum Msg { Query, Mutation } });
pair!(repr_added
    { #[derive(Message)] pub struct Msg { id: u64 } }
    { #[derive(Message)] #[repr(C)] pub struct Msg { id: u64 } });
pair!(rkyv_with_added
{
    #[derive(Message, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
    pub struct Msg { params: String }
}
{
    #[derive(Message, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
    pub struct Msg { #[rkyv(with = zerocodec_codecs::AsJson)] params: String }
});
pair!(serde_field_renamed
{
    #[derive(Message, serde::Serialize)]
    pub struct Msg { room_id: String }
}
{
    #[derive(Message, serde::Serialize)]
    pub struct Msg { #[serde(rename = "roomId")] room_id: String }
});
pair!(serde_rename_all
{
    #[derive(Message, serde::Serialize)]
    pub struct Msg { room_id: String }
}
{
    #[derive(Message, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Msg { room_id: String }
});
pair!(serde_enum_tagged
{
    #[derive(Message, serde::Serialize)]
    pub enum Msg { Ping { seq: u64 } }
}
{
    #[derive(Message, serde::Serialize)]
    #[serde(tag = "type")]
    pub enum Msg { Ping { seq: u64 } }
});
pair!(nested_fields_swapped
{
    #[derive(Message)] pub struct User { id: u32, karma: u32 }
    #[derive(Message)] pub struct Msg { from: User, text: String }
}
{
    #[derive(Message)] pub struct User { karma: u32, id: u32 }
    #[derive(Message)] pub struct Msg { from: User, text: String }
});
pair!(nested_field_retyped_two_levels_down
{
    #[derive(Message)] pub struct Geo { lat: f32 }
    #[derive(Message)] pub struct User { id: u32, home: Option<Geo> }
    #[derive(Message)] pub struct Msg { from: Vec<User> }
}
{
    #[derive(Message)] pub struct Geo { lat: f64 }
    #[derive(Message)] pub struct User { id: u32, home: Option<Geo> }
    #[derive(Message)] pub struct Msg { from: Vec<User> }
});
pair!(nested_declared_name_changed
{
    #[derive(Message)] pub struct User { id: u32 }
    #[derive(Message)] pub struct Msg { from: User }
}
{
    #[derive(Message)] #[message(name = "Member")] pub struct User { id: u32 }
    #[derive(Message)] pub struct Msg { from: User }
});
pair!(nested_variant_added
{
    #[derive(Message)] pub enum Kind { Text }
    #[derive(Message)] pub struct Msg { kind: Kind }
}
{
    #[derive(Message)] pub enum Kind { Text, Image }
    #[derive(Message)] pub struct Msg { kind: Kind }
});
pair!(std_container_changed
    { #[derive(Message)] pub struct Msg { tags: Vec<String> } }
    { #[derive(Message)] pub struct Msg { tags: std::collections::BTreeSet<String> } });
pair!(array_length_changed
    { #[derive(Message)] pub struct Msg { key: [u8; 16] } }
    { #[derive(Message)] pub struct Msg { key: [u8; 32] } });
pair!(boxed
    { #[derive(Message)] pub struct Msg { body: [u8; 4] } }
    { #[derive(Message)] pub struct Msg { body: Box<[u8; 4]> } });
pair!(opaque_name_changed
{
    pub struct Point(f64, f64);
    #[derive(Message)] pub struct Msg { #[message(opaque = "geo.Point/1")] at: Point }
}
{
    pub struct Point(f64, f64);
    #[derive(Message)] pub struct Msg { #[message(opaque = "geo.Point/2")] at: Point }
});
pair!(opaque_vs_typed
{
    #[derive(Message)] pub struct Msg { #[message(opaque = "u64")] at: u64 }
}
{
    #[derive(Message)] pub struct Msg { at: u64 }
});
pair!(recursion_vs_nesting
{
    #[derive(Message)] pub struct Msg { id: u64, next: Option<Box<Msg>> }
}
{
    #[derive(Message)] pub struct Other { id: u64 }
    #[derive(Message)] pub struct Msg { id: u64, next: Option<Box<Other>> }
});
pair!(type_parameter_renamed
{
    #[derive(Message)] pub struct Gen<T> { body: T }
    pub type Msg = Gen<crate::Chat>;
}
{
    #[derive(Message)] pub struct Gen<U> { body: U }
    pub type Msg = Gen<crate::Chat>;
});
pair!(const_parameter_type_changed
{
    #[derive(Message)] pub struct Gen<const N: usize> { id: u64 }
    pub type Msg = Gen<4>;
}
{
    #[derive(Message)] pub struct Gen<const N: u32> { id: u64 }
    pub type Msg = Gen<4>;
});
pair!(type_argument_changed
{
    #[derive(Message)] pub struct Gen<T> { body: T }
    pub type Msg = Gen<crate::Chat>;
}
{
    #[derive(Message)] pub struct Gen<T> { body: T }
    pub type Msg = Gen<crate::Rpc>;
});
pair!(const_argument_changed
{
    #[derive(Message)] pub struct Gen<const N: usize> { body: [u8; N] }
    pub type Msg = Gen<4>;
}
{
    #[derive(Message)] pub struct Gen<const N: usize> { body: [u8; N] }
    pub type Msg = Gen<5>;
});
pair!(type_arguments_swapped
{
    #[derive(Message)] pub struct Gen<A, B> { a: A, b: B }
    pub type Msg = Gen<crate::Chat, crate::Rpc>;
}
{
    #[derive(Message)] pub struct Gen<A, B> { a: A, b: B }
    pub type Msg = Gen<crate::Rpc, crate::Chat>;
});

// ---- Pairs that differ only in what the wire does not see. ----

pair!(nested_type_moved_between_modules
{
    pub mod users {
        #[derive(zerocodec::Message)] pub struct User { id: u32 }
    }
    #[derive(Message)] pub struct Msg { from: users::User }
}
{
    #[derive(Message)] pub struct User { id: u32 }
    #[derive(Message)] pub struct Msg { from: self::User }
});
pair!(nested_type_renamed_keeping_its_declared_name
{
    #[derive(Message)] pub struct User { id: u32 }
    #[derive(Message)] pub struct Msg { from: User }
}
{
    #[derive(Message)] #[message(name = "User")] pub struct Member { id: u32 }
    #[derive(Message)] pub struct Msg { from: Member }
});
pair!(type_alias_and_qualified_path
{ #[derive(Message)] pub struct Msg { id: u64, text: String } }
{
    pub type Id = u64;
    #[derive(Message)] pub struct Msg { id: Id, text: std::string::String }
});
pair!(opaque_type_changed_under_the_same_name
{
    pub struct Point(f64, f64);
    #[derive(Message)] pub struct Msg { #[message(opaque = "geo.Point/1")] at: Point }
}
{
    pub struct Point(f32, f32, f32);
    #[derive(Message)] pub struct Msg { #[message(opaque = "geo.Point/1")] at: Point }
});

pair!(doc_comments
{ #[derive(Message)] pub struct Msg { id: u64, text: String } }
{
    /// A message.
    #[derive(Message)]
    pub struct Msg {
        /// Its id.
        id: u64,
        #[doc = "Its text."]
        text: String,
    }
});
pair!(field_visibility
    { #[derive(Message)] pub struct Msg { id: u64, text: String } }
    { #[derive(Message)] pub struct Msg { pub id: u64, pub(crate) text: String } });
pair!(whitespace_and_comments
{ #[derive(Message)] pub struct Msg { bytes: Vec<u8>, pairs: Vec<(u8, u16)> } }
{
    #[derive(Message)]
    pub struct Msg {
        bytes : Vec < /* raw */ u8 >,
        pairs: Vec<( u8,u16 )>,
    }
});
pair!(other_derives_and_lints
{ #[derive(Message)] pub struct Msg { id: u64 } }
{
    #[derive(Debug, Clone, PartialEq, Message)]
    #[allow(clippy::all)]
    #[must_use]
    pub struct Msg { #[allow(unused)] id: u64 }
});
pair!(rkyv_non_layout_options
{
    #[derive(Message, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
    pub struct Msg { id: u64 }
}
{
    #[derive(Message, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
    #[rkyv(derive(Debug), compare(PartialEq), archived = ArchivedRenamed)]
    #[rkyv(crate = ::rkyv)]
    pub struct Msg { id: u64 }
});
pair!(serde_non_shape_options
{
    #[derive(Message, serde::Deserialize)]
    pub struct Msg { id: u64 }
}
{
    #[derive(Message, serde::Deserialize)]
    #[serde(expecting = "a message with an id", crate = "serde")]
    pub struct Msg { id: u64 }
});
pair!(message_defaults_spelled_out
{ #[derive(Message)] pub struct Msg { id: u64 } }
{
    #[derive(Message)]
    #[message(name = "Msg", version = 0, crate = "::zerocodec")]
    pub struct Msg { id: u64 }
});
pair!(renamed_rust_type_keeps_its_message_name
{ #[derive(Message)] pub struct Msg { id: u64 } }
{
    #[derive(Message)]
    #[message(name = "Msg")]
    pub struct MsgV2 { id: u64 }
    pub type Msg = MsgV2;
});
pair!(bounds_and_where_clauses
{
    #[derive(Message)] pub struct Gen<T> { body: T }
    pub type Msg = Gen<crate::Chat>;
}
{
    #[derive(Message)] pub struct Gen<T: Clone> where T: Send { body: T }
    pub type Msg = Gen<crate::Chat>;
});
pair!(attribute_macro_vs_derive
{
    #[derive(Message, serde::Serialize, serde::Deserialize, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
    pub struct Msg { id: u64, #[serde(rename = "t")] text: String }
}
{
    #[zerocodec::message]
    pub struct Msg { id: u64, #[serde(rename = "t")] text: String }
});

/// A message type to instantiate generic fixtures with.
#[derive(Message, Clone)]
pub struct Chat {
    text: String,
}

/// Another, with a different shape.
#[derive(Message, Clone)]
pub struct Rpc {
    method: String,
}

#[test]
fn every_wire_relevant_change_changes_the_fingerprint() {
    let table = table![
        field_renamed,
        fields_reordered,
        field_retyped,
        field_added,
        tuple_field_retyped,
        unit_vs_empty_braces,
        tuple_vs_named,
        version_bumped,
        name_attribute_changed,
        variant_added,
        variant_renamed,
        variants_reordered,
        variant_field_retyped,
        variant_kind_changed,
        discriminant_changed,
        repr_changed,
        repr_added,
        rkyv_with_added,
        serde_field_renamed,
        serde_rename_all,
        serde_enum_tagged,
        nested_fields_swapped,
        nested_field_retyped_two_levels_down,
        nested_declared_name_changed,
        nested_variant_added,
        std_container_changed,
        array_length_changed,
        boxed,
        opaque_name_changed,
        opaque_vs_typed,
        recursion_vs_nesting,
        type_argument_changed,
        const_argument_changed,
        type_arguments_swapped,
    ];
    for (what, a, b) in table {
        assert_ne!(a, b, "{what}: both sides fingerprint to {a:#018x}");
    }
}

#[test]
fn changes_the_wire_does_not_see_keep_the_fingerprint() {
    let table = table![
        nested_type_moved_between_modules,
        nested_type_renamed_keeping_its_declared_name,
        type_alias_and_qualified_path,
        opaque_type_changed_under_the_same_name,
        // Generic parameters are seen through the field types that use them: their names
        // and the types of const parameters are not on the wire.
        type_parameter_renamed,
        const_parameter_type_changed,
        doc_comments,
        field_visibility,
        whitespace_and_comments,
        other_derives_and_lints,
        rkyv_non_layout_options,
        serde_non_shape_options,
        message_defaults_spelled_out,
        renamed_rust_type_keeps_its_message_name,
        bounds_and_where_clauses,
        attribute_macro_vs_derive,
    ];
    for (what, a, b) in table {
        assert_eq!(a, b, "{what}: {a:#018x} != {b:#018x}");
    }
}

// ---- The fingerprint-level half of the ChatMessageV1 -> V2 frame test. ----

/// The chat message as first shipped.
#[zerocodec::message(name = "ChatMessage", version = 1)]
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessageV1 {
    pub id: String,
    pub content: String,
    pub timestamp: u64,
    pub sender: String,
    pub room_id: String,
}

/// The same message with a field added.
#[zerocodec::message(name = "ChatMessage", version = 1)]
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessageV2 {
    pub id: String,
    pub content: String,
    pub timestamp: u64,
    pub sender: String,
    pub room_id: String,
    pub edited_at: Option<u64>,
}

#[test]
fn a_field_added_changes_the_fingerprint_even_under_the_same_name_and_version() {
    assert_eq!(ChatMessageV1::NAME, ChatMessageV2::NAME);
    assert_eq!(ChatMessageV1::VERSION, ChatMessageV2::VERSION);
    assert_ne!(
        ChatMessageV1::SCHEMA_FINGERPRINT,
        ChatMessageV2::SCHEMA_FINGERPRINT
    );
}

#[test]
fn attribute_macro_types_round_trip_through_json_and_rkyv() {
    let msg = ChatMessageV2 {
        id: "m-1".into(),
        content: "héllo".into(),
        timestamp: 1_763_700_000_000,
        sender: "ada".into(),
        room_id: "r-9".into(),
        edited_at: Some(1_763_700_000_500),
    };
    let json_codec = JsonCodec::new();
    let json = json_codec.encode(&msg).unwrap();
    assert_eq!(json_codec.decode(&json).unwrap(), msg);
    let rkyv_codec = RkyvCodec::new();
    let rkyv = rkyv_codec.encode(&msg).unwrap();
    assert_eq!(rkyv_codec.decode(&rkyv).unwrap(), msg);
    let view = rkyv_codec.access(&rkyv).unwrap();
    assert_eq!(view.content, "héllo");
    assert_eq!(
        view.edited_at.as_ref().map(|t| t.to_native()),
        Some(1_763_700_000_500)
    );
}

/// A serde-renamed, rkyv-with enum declared in one line.
#[zerocodec::message(name = "rpc.Call")]
#[derive(Debug, Clone, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Call {
    Query {
        id: u64,
    },
    Mutation {
        id: u64,
        #[rkyv(with = zerocodec_codecs::AsJson)]
        params: std::collections::BTreeMap<String, u32>,
    },
}

#[test]
fn attribute_macro_keeps_serde_and_rkyv_options() {
    let call = Call::Mutation {
        id: 3,
        params: [("limit".to_string(), 10)].into(),
    };
    let json_codec = JsonCodec::new();
    let json = json_codec.encode(&call).unwrap();
    assert_eq!(
        std::str::from_utf8(&json).unwrap(),
        r#"{"kind":"mutation","id":3,"params":{"limit":10}}"#
    );
    assert_eq!(json_codec.decode(&json).unwrap(), call);
    let rkyv_codec = RkyvCodec::new();
    let rkyv = rkyv_codec.encode(&call).unwrap();
    assert_eq!(rkyv_codec.decode(&rkyv).unwrap(), call);
    assert_eq!(Call::NAME, "rpc.Call");
}

// ---- Generics. ----

/// A generic envelope: its fingerprint folds in the payload's.
#[derive(Message)]
pub struct Envelope<T> {
    pub seq: u64,
    pub body: T,
}

/// A fixed-size buffer: its fingerprint folds in the length.
#[derive(Message)]
pub struct Fixed<const N: usize> {
    pub bytes: [u8; N],
}

#[test]
fn generic_fingerprints_fold_in_their_arguments() {
    assert_eq!(<Envelope<Chat>>::NAME, "Envelope");
    assert_ne!(
        <Envelope<Chat>>::SCHEMA_FINGERPRINT,
        <Envelope<Rpc>>::SCHEMA_FINGERPRINT
    );
    assert_ne!(
        <Envelope<Envelope<Chat>>>::SCHEMA_FINGERPRINT,
        <Envelope<Chat>>::SCHEMA_FINGERPRINT
    );
    assert_ne!(
        <Fixed<16>>::SCHEMA_FINGERPRINT,
        <Fixed<32>>::SCHEMA_FINGERPRINT
    );
    // The documented construction: the definition's hash, folded with each field type's.
    let definition = fnv1a_64(
        b"zerocodec-message/2\nname 8:Envelope\nversion 0\n\
          struct named\nfield 3:seq\nfield 4:body\n",
    );
    assert_eq!(
        <Envelope<Chat>>::SCHEMA_FINGERPRINT,
        combine_fingerprints(
            combine_fingerprints(definition, <u64 as Schema>::FINGERPRINT),
            <Chat as Schema>::FINGERPRINT
        )
    );
}

// ---- Stability: the same source gives the same fingerprint on every build and platform. ----

/// A unit struct: the smallest description.
#[derive(Message)]
pub struct Heartbeat;

/// An enum with every variant kind, a repr and discriminants.
#[derive(Message)]
#[message(version = 3)]
#[repr(u8)]
pub enum Event {
    Joined = 1,
    Left(String) = 2,
    Said { text: String, at: u64 } = 7,
}

#[test]
fn the_fingerprint_is_fnv1a_of_the_documented_description() {
    assert_eq!(
        Heartbeat::SCHEMA_FINGERPRINT,
        fnv1a_64(b"zerocodec-message/2\nname 9:Heartbeat\nversion 0\nstruct unit\n")
    );
    let description = fnv1a_64(
        b"zerocodec-message/2\nname 5:Event\nversion 3\nattr 8:repr(u8)\nenum\n\
          variant 6:Joined unit\ndiscriminant 1:1\n\
          variant 4:Left tuple\ndiscriminant 1:2\nfield 0\n\
          variant 4:Said named\ndiscriminant 1:7\nfield 4:text\nfield 2:at\n",
    );
    let string = fnv1a_64(b"zerocodec-type/1 String");
    let int = fnv1a_64(b"zerocodec-type/1 u64");
    assert_eq!(
        Event::SCHEMA_FINGERPRINT,
        [string, string, int]
            .into_iter()
            .fold(description, combine_fingerprints)
    );
}

#[test]
fn fingerprints_written_down_stay_equal() {
    // Written once from a build. They are computed by `const fn`s from the definitions alone,
    // so every build, compiler and platform must give these exact values: a change here is a
    // wire-format change (every stored frame of the type stops matching) and must be
    // deliberate.
    let table: &[(&str, u64, u64)] = &[
        ("u8", <u8 as Schema>::FINGERPRINT, 0x761e_0e6c_caf2_df63),
        ("u64", <u64 as Schema>::FINGERPRINT, 0xa821_65dc_dad9_df7b),
        ("i32", <i32 as Schema>::FINGERPRINT, 0x85d7_3ddc_c787_dd88),
        ("f64", <f64 as Schema>::FINGERPRINT, 0x038d_4cdc_7da2_0662),
        ("bool", <bool as Schema>::FINGERPRINT, 0x4895_49cb_74cd_142a),
        ("char", <char as Schema>::FINGERPRINT, 0xc607_a2d2_9537_87ca),
        (
            "String",
            <String as Schema>::FINGERPRINT,
            0x61ac_e208_b9bb_1cb7,
        ),
        (
            "Box<str>",
            <Box<str> as Schema>::FINGERPRINT,
            0xe4bb_f6ff_fd2d_f348,
        ),
        (
            "Vec<u8>",
            <Vec<u8> as Schema>::FINGERPRINT,
            0xd871_6c2b_d884_ce93,
        ),
        (
            "Option<u64>",
            <Option<u64> as Schema>::FINGERPRINT,
            0x042c_7f9e_11f5_5967,
        ),
        (
            "[u8; 16]",
            <[u8; 16] as Schema>::FINGERPRINT,
            0xa509_ec03_f968_3d16,
        ),
        (
            "(u8, String)",
            <(u8, String) as Schema>::FINGERPRINT,
            0xd493_85a1_07d6_5866,
        ),
        (
            "HashMap<String, u64>",
            <std::collections::HashMap<String, u64> as Schema>::FINGERPRINT,
            0x150a_cc8c_3a4b_33a9,
        ),
        (
            "BTreeMap<String, Vec<u32>>",
            <std::collections::BTreeMap<String, Vec<u32>> as Schema>::FINGERPRINT,
            0x1601_64a7_f191_e729,
        ),
        (
            "HashSet<u32>",
            <std::collections::HashSet<u32> as Schema>::FINGERPRINT,
            0x6575_6b03_7b75_997c,
        ),
        (
            "serde_json::Value",
            <serde_json::Value as Schema>::FINGERPRINT,
            0x93bb_da34_e3fd_c167,
        ),
        (
            "Heartbeat",
            Heartbeat::SCHEMA_FINGERPRINT,
            0x31d4_a918_742d_9059,
        ),
        ("Event", Event::SCHEMA_FINGERPRINT, 0x7f80_991a_fe73_29b0),
        (
            "ChatMessageV1",
            ChatMessageV1::SCHEMA_FINGERPRINT,
            0x9956_b581_eb03_68c6,
        ),
        (
            "Envelope<Chat>",
            <Envelope<Chat>>::SCHEMA_FINGERPRINT,
            0x9582_da6b_8884_32bc,
        ),
        (
            "Fixed<16>",
            <Fixed<16>>::SCHEMA_FINGERPRINT,
            0x888d_781c_e98a_76ed,
        ),
    ];
    let mismatches: Vec<String> = table
        .iter()
        .filter(|(_, found, written)| found != written)
        .map(|(what, found, written)| format!("{what}: {found:#018x} (written: {written:#018x})"))
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// No `Debug` on the archived type, as asked.
#[zerocodec::message(archived_debug = false)]
pub struct Quiet {
    id: u64,
}

/// Its own rkyv derive list, which the attribute leaves alone.
#[zerocodec::message]
#[rkyv(derive(PartialEq))]
pub struct OwnDerives {
    id: u64,
}

#[test]
fn attribute_macro_archived_types_print_so_access_results_unwrap() {
    let msg = ChatMessageV2 {
        id: "m-1".into(),
        content: "hi".into(),
        timestamp: 1,
        sender: "ada".into(),
        room_id: "r".into(),
        edited_at: None,
    };
    let codec = RkyvCodec::new();
    let rkyv = codec.encode(&msg).unwrap();
    // `unwrap_err` needs `Debug` on the `Ok` side: the archived view.
    let err = codec.access(&rkyv[..rkyv.len() - 1]).unwrap_err();
    assert!(!err.message().is_empty());
    let view = codec.access(&rkyv).unwrap();
    let text = format!("{view:?}");
    assert!(text.contains("\"ada\""), "{text}");
    // The option and the fingerprint do not interact: `archived_debug` is not on the wire.
    assert_eq!(Quiet::SCHEMA_FINGERPRINT, {
        #[zerocodec::message(name = "Quiet")]
        struct Quiet {
            id: u64,
        }
        Quiet::SCHEMA_FINGERPRINT
    });
    assert_eq!(OwnDerives::NAME, "OwnDerives");
}

/// `bitcode` adds bitcode's derives, from this crate's own `bitcode` dependency.
#[zerocodec::message(name = "log.Line", bitcode)]
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    level: u8,
    text: String,
    tags: Vec<String>,
}

/// The same type without `bitcode`: the key leaves the fingerprint alone.
mod plain_line {
    #[zerocodec::message(name = "log.Line")]
    pub struct Line {
        level: u8,
        text: String,
        tags: Vec<String>,
    }
}

#[test]
fn attribute_macro_adds_bitcode_derives_when_asked() {
    use zerocodec_codecs::{BitcodeCodec, HybridCodec, Primary};

    let line = Line {
        level: 3,
        text: "disk almost full".into(),
        tags: vec!["disk".into(), "ops".into()],
    };
    let codec = BitcodeCodec::new();
    let bytes = codec.encode(&line).unwrap();
    assert_eq!(&bytes[..], &bitcode::encode(&line)[..]);
    assert_eq!(codec.decode(&bytes).unwrap(), line);
    let hybrid = HybridCodec::new()
        .with_bitcode()
        .with_primary(Primary::Bitcode);
    let frame = hybrid.encode(&line).unwrap();
    assert_eq!(hybrid.decode(&frame).unwrap(), line);
    // serde and rkyv are still there.
    assert_eq!(
        HybridCodec::<Line>::new()
            .with_bitcode()
            .decode(&frame)
            .unwrap(),
        line
    );
    let rkyv = RkyvCodec::new();
    let archive = rkyv.encode(&line).unwrap();
    assert_eq!(rkyv.access(&archive).unwrap().text, "disk almost full");
    assert_eq!(
        Line::SCHEMA_FINGERPRINT,
        plain_line::Line::SCHEMA_FINGERPRINT
    );
}
