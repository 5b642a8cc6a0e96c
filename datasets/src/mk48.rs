//! The `mk48` dataset: game state updates from a multiplayer naval game (modeled on the public
//! rust_serialization_benchmark's `mk48` dataset): many small numeric entities per update.
//!
//! Each update carries 50-200 contacts (ships and weapons in view), as this project's
//! benchmark issue specifies; the original draws 20-40.
//!
//! The contacts are flat, as the "small numeric entities" and BASELINES.md's figures
//! (rkyv decodes 1,000 updates in under a millisecond) describe: only numbers, `Option`s, enums
//! and fixed-size arrays, with no heap part ([`Contact`] needs no drop). The public schema's
//! two short vectors per contact are folded into fields of the same information: which weapons
//! are reloaded is a bit mask ([`Contact::reloads`]) and the turret headings a fixed array of
//! [`MAX_TURRETS`] ([`Contact::turret_angles`]). Heap data is per update only: the contact and
//! terrain lists, and each terrain chunk's bytes.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// Updates in the benchmark's `mk48` dataset.
pub const MK48_UPDATES: usize = 1_000;

/// Contacts per update: `CONTACTS.0..CONTACTS.1`.
const CONTACTS: (usize, usize) = (50, 201);

/// A kind of ship, aircraft or weapon.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
    zerocodec::Message,
)]
pub enum EntityType {
    /// Destroyer.
    ArleighBurke,
    /// Battleship.
    Bismarck,
    /// Aircraft carrier.
    Clemenceau,
    /// Destroyer.
    Fletcher,
    /// Torpedo boat.
    G5,
    /// Battleship.
    Iowa,
    /// Destroyer.
    Kolkata,
    /// Missile boat.
    Osa,
    /// Submarine.
    Yasen,
    /// Hovercraft.
    Zubr,
}

/// Most turrets an entity type has (the length of [`Contact::turret_angles`]).
pub const MAX_TURRETS: usize = 4;

/// Every entity type with its relative frequency in the game, turret and weapon counts (at
/// most [`MAX_TURRETS`] turrets and 32 weapons, the bits of [`Contact::reloads`]).
const ENTITY_TYPES: [(EntityType, f64, usize, usize); 10] = [
    (EntityType::ArleighBurke, 2.14, 1, 20),
    (EntityType::Bismarck, 0.52, 4, 10),
    (EntityType::Clemenceau, 0.97, 4, 16),
    (EntityType::Fletcher, 1.46, 4, 18),
    (EntityType::G5, 13.16, 0, 2),
    (EntityType::Iowa, 1.55, 3, 28),
    (EntityType::Kolkata, 0.83, 1, 15),
    (EntityType::Osa, 7.25, 2, 6),
    (EntityType::Yasen, 4.06, 0, 14),
    (EntityType::Zubr, 12.92, 3, 11),
];

/// Position, heading and speed.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
    zerocodec::Message,
)]
pub struct Transform {
    /// Depth below the surface (negative) or 0.
    pub altitude: i8,
    /// Heading.
    pub angle: u16,
    /// Position in the world.
    pub position: (f32, f32),
    /// Speed.
    pub velocity: i16,
}

/// Where a contact is steering.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
    zerocodec::Message,
)]
pub struct Guidance {
    /// Target heading.
    pub angle: u16,
    /// Diving.
    pub submerge: bool,
    /// Target speed.
    pub velocity: i16,
}

/// One entity in view: small numeric fields only, so a list of them is one flat block.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
    zerocodec::Message,
)]
pub struct Contact {
    /// Damage taken.
    pub damage: u8,
    /// Entity id.
    pub entity_id: u32,
    /// Entity type, when identified.
    pub entity_type: Option<EntityType>,
    /// Steering.
    pub guidance: Guidance,
    /// Owning player, when identified.
    pub player_id: Option<u16>,
    /// Which weapons are reloaded: bit `i` for weapon `i` (0 when not identified).
    pub reloads: u32,
    /// Position and motion.
    pub transform: Transform,
    /// Turret headings; the entries past the type's turret count, and all of them when not
    /// identified, are 0.
    pub turret_angles: [u16; MAX_TURRETS],
}

/// Changed terrain in one chunk.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
    zerocodec::Message,
)]
pub struct TerrainUpdate {
    /// Chunk coordinates.
    pub chunk_id: (i8, i8),
    /// Encoded terrain changes.
    pub data: Vec<u8>,
}

/// One server tick's view for a player.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
    zerocodec::Message,
)]
pub struct Update {
    /// Entities in view.
    pub contacts: Vec<Contact>,
    /// The player's score.
    pub score: u32,
    /// Radius of the playable world.
    pub world_radius: f32,
    /// Terrain changes.
    pub terrain_updates: Vec<TerrainUpdate>,
}

/// A stream of updates: the `mk48` dataset's value.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
    zerocodec::Message,
)]
pub struct Updates {
    /// The updates.
    pub updates: Vec<Update>,
}

/// Picks an entity type by its in-game frequency; returns `(type, turrets, weapons)`.
fn entity_type(rng: &mut Rng) -> (EntityType, usize, usize) {
    let total: f64 = ENTITY_TYPES.iter().map(|e| e.1).sum();
    let mut x = rng.f64() * total;
    for &(kind, weight, turrets, weapons) in &ENTITY_TYPES {
        if x < weight {
            return (kind, turrets, weapons);
        }
        x -= weight;
    }
    let (kind, _, turrets, weapons) = ENTITY_TYPES[ENTITY_TYPES.len() - 1];
    (kind, turrets, weapons)
}

fn velocity(rng: &mut Rng) -> i16 {
    const MIN: i64 = 140;
    const MAX: i64 = 900;
    const REVERSE_SLOW: i64 = 4;
    match rng.below(100) {
        0..80 => rng.range(MIN, MAX) as i16,
        80..90 => 0,
        _ => rng.range(-MAX / REVERSE_SLOW, -MIN / REVERSE_SLOW) as i16,
    }
}

impl Contact {
    /// A contact in a game of `players` players; 70% are identified (type, owner, weapons).
    pub fn generate(rng: &mut Rng, players: u16) -> Self {
        let (kind, turrets, weapons) = entity_type(rng);
        let visible = rng.chance(0.7);
        let submerge = kind == EntityType::Yasen && rng.chance(0.9);
        let damage = if visible && rng.chance(0.6) {
            0
        } else {
            rng.below(200) as u8
        };
        let entity_id = rng.below(u64::from(players) * 20) as u32;
        let guidance = Guidance {
            angle: rng.next_u32() as u16,
            submerge,
            velocity: velocity(rng),
        };
        let player_id = visible.then(|| rng.below(u64::from(players)) as u16);
        let reloads = if visible {
            let p = rng.f64();
            (0..weapons).fold(0u32, |mask, i| mask | u32::from(rng.chance(p)) << i)
        } else {
            0
        };
        let transform = Transform {
            altitude: if submerge {
                rng.range(-120, -35) as i8
            } else {
                0
            },
            angle: rng.next_u32() as u16,
            position: (rng.f32_in(-750.0, 750.0), rng.f32_in(-750.0, 750.0)),
            velocity: velocity(rng),
        };
        let mut turret_angles = [0; MAX_TURRETS];
        if visible {
            let base = rng.next_u32() as u16;
            for angle in &mut turret_angles[..turrets] {
                *angle = if rng.chance(0.75) {
                    base.wrapping_add_signed(rng.range(-200, 200) as i16)
                } else {
                    rng.next_u32() as u16
                };
            }
        }
        Self {
            damage,
            entity_id,
            entity_type: visible.then_some(kind),
            guidance,
            player_id,
            reloads,
            transform,
            turret_angles,
        }
    }
}

impl TerrainUpdate {
    /// A chunk within `radius` chunks of the origin; 2% are whole new chunks (~1 KB).
    pub fn generate(rng: &mut Rng, radius: i8) -> Self {
        let new_chunk = rng.chance(0.02);
        let r = i64::from(radius);
        let chunk_id = (rng.range(-r, r) as i8, rng.range(-r, r) as i8);
        let len = if new_chunk {
            rng.count(900, 1100)
        } else {
            rng.count(3, 9)
        };
        Self {
            chunk_id,
            data: (0..len).map(|_| rng.below(256) as u8).collect(),
        }
    }
}

impl Update {
    /// One update in a game of 200-400 players.
    pub fn generate(rng: &mut Rng) -> Self {
        let players = rng.range(200, 400) as u16;
        let world_radius = (f32::from(players) * 15_000.0).sqrt() + rng.f32_in(-50.0, 50.0);
        let terrain_radius = (world_radius / 1600.0).ceil() as i8;
        let contacts = (0..rng.count(CONTACTS.0, CONTACTS.1))
            .map(|_| Contact::generate(rng, players))
            .collect();
        let score = (rng.f32().powi(4) * 5000.0) as u32 + rng.below(50) as u32;
        let terrain_updates = (0..rng.count(3, 10))
            .map(|_| TerrainUpdate::generate(rng, terrain_radius))
            .collect();
        Self {
            contacts,
            score,
            world_radius,
            terrain_updates,
        }
    }
}

impl Updates {
    /// `n` updates drawn from `rng`.
    pub fn generate(rng: &mut Rng, n: usize) -> Self {
        Self {
            updates: (0..n).map(|_| Update::generate(rng)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_flat() {
        // No Vec, String or Box anywhere in an entity: decoding one allocates nothing.
        assert!(!std::mem::needs_drop::<Contact>());
        assert!(
            ENTITY_TYPES
                .iter()
                .all(|&(_, _, turrets, weapons)| turrets <= MAX_TURRETS && weapons <= 32)
        );
    }

    #[test]
    fn contacts_carry_what_their_type_has() {
        let mut rng = Rng::new(7);
        let update = Update::generate(&mut rng);
        let mut identified = 0;
        for contact in &update.contacts {
            match contact.entity_type {
                Some(kind) => {
                    identified += 1;
                    let &(_, _, turrets, weapons) =
                        ENTITY_TYPES.iter().find(|e| e.0 == kind).unwrap();
                    assert!(contact.reloads >> weapons == 0, "{contact:?}");
                    assert!(contact.turret_angles[turrets..].iter().all(|&a| a == 0));
                    assert!(contact.player_id.is_some());
                }
                None => {
                    assert_eq!(contact.reloads, 0);
                    assert_eq!(contact.turret_angles, [0; MAX_TURRETS]);
                    assert!(contact.player_id.is_none());
                }
            }
        }
        assert!(identified > 0 && identified < update.contacts.len());
    }
}
