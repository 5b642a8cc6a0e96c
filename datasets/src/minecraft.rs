//! The `minecraft` dataset: game-save player records (modeled on the public
//! rust_serialization_benchmark's `minecraft_savedata` dataset): nested structs, enums,
//! options, inventories of items, short strings and `f64` positions.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// Players in the benchmark's `minecraft` dataset.
pub const MINECRAFT_PLAYERS: usize = 500;

/// A player's game mode.
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
pub enum GameType {
    /// Gather and survive.
    Survival,
    /// Unlimited resources.
    Creative,
    /// Maps with rules.
    Adventure,
    /// Watch only.
    Spectator,
}

/// A stack of items in an inventory slot.
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
pub struct Item {
    /// Stack size.
    pub count: i8,
    /// Inventory slot.
    pub slot: u8,
    /// Item id.
    pub id: String,
}

/// What a player may do.
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
pub struct Abilities {
    /// Walking speed.
    pub walk_speed: f32,
    /// Flying speed.
    pub fly_speed: f32,
    /// May fly.
    pub may_fly: bool,
    /// Is flying.
    pub flying: bool,
    /// Takes no damage.
    pub invulnerable: bool,
    /// May place and break blocks.
    pub may_build: bool,
    /// Breaks blocks instantly.
    pub instabuild: bool,
}

/// A mob or other entity.
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
pub struct Entity {
    /// Entity kind.
    pub id: String,
    /// Position.
    pub pos: (f64, f64, f64),
    /// Velocity.
    pub motion: (f64, f64, f64),
    /// Yaw and pitch.
    pub rotation: (f32, f32),
    /// Distance fallen so far.
    pub fall_distance: f32,
    /// Ticks left burning.
    pub fire: u16,
    /// Ticks of air left.
    pub air: u16,
    /// Standing on the ground.
    pub on_ground: bool,
    /// Unaffected by gravity.
    pub no_gravity: bool,
    /// Takes no damage.
    pub invulnerable: bool,
    /// Ticks until it may use a portal again.
    pub portal_cooldown: i32,
    /// Unique id.
    pub uuid: [u32; 4],
    /// Name tag, if any.
    pub custom_name: Option<String>,
    /// Name tag shown.
    pub custom_name_visible: bool,
    /// Makes no sound.
    pub silent: bool,
    /// Outlined.
    pub glowing: bool,
}

/// The entity a player rides.
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
pub struct Vehicle {
    /// The vehicle's unique id.
    pub uuid: [u32; 4],
    /// The vehicle itself.
    pub entity: Entity,
}

/// Recipes a player has unlocked, and the crafting screens' toggles.
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
pub struct RecipeBook {
    /// Unlocked recipes.
    pub recipes: Vec<String>,
    /// Recipes flagged as new.
    pub to_be_displayed: Vec<String>,
    /// Crafting screen shows craftable only.
    pub is_filtering_craftable: bool,
    /// Crafting book open.
    pub is_gui_open: bool,
    /// Furnace shows craftable only.
    pub is_furnace_filtering_craftable: bool,
    /// Furnace book open.
    pub is_furnace_gui_open: bool,
    /// Blast furnace shows craftable only.
    pub is_blasting_furnace_filtering_craftable: bool,
    /// Blast furnace book open.
    pub is_blasting_furnace_gui_open: bool,
    /// Smoker shows craftable only.
    pub is_smoker_filtering_craftable: bool,
    /// Smoker book open.
    pub is_smoker_gui_open: bool,
}

/// One player's saved state.
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
pub struct Player {
    /// Current game mode.
    pub game_type: GameType,
    /// Game mode before the last switch.
    pub previous_game_type: GameType,
    /// Score.
    pub score: u64,
    /// Dimension the player is in.
    pub dimension: String,
    /// Hot-bar slot in hand.
    pub selected_item_slot: u32,
    /// Item in hand.
    pub selected_item: Item,
    /// Dimension of the spawn point, if set.
    pub spawn_dimension: Option<String>,
    /// Spawn point X.
    pub spawn_x: i64,
    /// Spawn point Y.
    pub spawn_y: i64,
    /// Spawn point Z.
    pub spawn_z: i64,
    /// Spawn point forced, if set.
    pub spawn_forced: Option<bool>,
    /// Ticks asleep.
    pub sleep_timer: u16,
    /// Food exhaustion.
    pub food_exhaustion_level: f32,
    /// Food saturation.
    pub food_saturation_level: f32,
    /// Ticks since the last food update.
    pub food_tick_timer: u32,
    /// Experience level.
    pub xp_level: u32,
    /// Progress to the next level.
    pub xp_p: f32,
    /// Total experience.
    pub xp_total: i32,
    /// Enchantment seed.
    pub xp_seed: i32,
    /// Inventory.
    pub inventory: Vec<Item>,
    /// Ender chest contents.
    pub ender_items: Vec<Item>,
    /// Abilities.
    pub abilities: Abilities,
    /// Where the player last entered the nether.
    pub entered_nether_position: Option<(f64, f64, f64)>,
    /// What the player rides.
    pub root_vehicle: Option<Vehicle>,
    /// Parrot on the left shoulder.
    pub shoulder_entity_left: Option<Entity>,
    /// Parrot on the right shoulder.
    pub shoulder_entity_right: Option<Entity>,
    /// Has seen the end credits.
    pub seen_credits: bool,
    /// Recipe book.
    pub recipe_book: RecipeBook,
}

/// A save file's players: the `minecraft` dataset's value.
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
pub struct Players {
    /// The players.
    pub players: Vec<Player>,
}

const ITEM_IDS: [&str; 8] = [
    "dirt",
    "stone",
    "pickaxe",
    "sand",
    "gravel",
    "shovel",
    "chestplate",
    "steak",
];
const ENTITY_IDS: [&str; 8] = [
    "cow", "sheep", "zombie", "skeleton", "spider", "creeper", "parrot", "bee",
];
const CUSTOM_NAMES: [&str; 8] = [
    "rainbow", "princess", "steve", "johnny", "missy", "coward", "fairy", "howard",
];
const RECIPES: [&str; 8] = [
    "pickaxe",
    "torch",
    "bow",
    "crafting table",
    "furnace",
    "shears",
    "arrow",
    "tnt",
];
const DIMENSIONS: [&str; 3] = ["overworld", "nether", "end"];

fn vec3(rng: &mut Rng) -> (f64, f64, f64) {
    (rng.f64(), rng.f64(), rng.f64())
}

fn uuid(rng: &mut Rng) -> [u32; 4] {
    [
        rng.next_u32(),
        rng.next_u32(),
        rng.next_u32(),
        rng.next_u32(),
    ]
}

impl GameType {
    /// A uniformly chosen game mode.
    pub fn generate(rng: &mut Rng) -> Self {
        *rng.pick(&[
            GameType::Survival,
            GameType::Creative,
            GameType::Adventure,
            GameType::Spectator,
        ])
    }
}

impl Item {
    /// A random stack.
    pub fn generate(rng: &mut Rng) -> Self {
        Self {
            count: rng.next_u32() as i8,
            slot: rng.next_u32() as u8,
            id: (*rng.pick(&ITEM_IDS)).to_owned(),
        }
    }
}

impl Abilities {
    /// Random abilities.
    pub fn generate(rng: &mut Rng) -> Self {
        Self {
            walk_speed: rng.f32(),
            fly_speed: rng.f32(),
            may_fly: rng.chance(0.5),
            flying: rng.chance(0.5),
            invulnerable: rng.chance(0.5),
            may_build: rng.chance(0.5),
            instabuild: rng.chance(0.5),
        }
    }
}

impl Entity {
    /// A random entity; half of them carry a name tag.
    pub fn generate(rng: &mut Rng) -> Self {
        Self {
            id: (*rng.pick(&ENTITY_IDS)).to_owned(),
            pos: vec3(rng),
            motion: vec3(rng),
            rotation: (rng.f32(), rng.f32()),
            fall_distance: rng.f32(),
            fire: rng.next_u32() as u16,
            air: rng.next_u32() as u16,
            on_ground: rng.chance(0.5),
            no_gravity: rng.chance(0.5),
            invulnerable: rng.chance(0.5),
            portal_cooldown: rng.next_u32() as i32,
            uuid: uuid(rng),
            custom_name: rng.maybe(|rng| (*rng.pick(&CUSTOM_NAMES)).to_owned()),
            custom_name_visible: rng.chance(0.5),
            silent: rng.chance(0.5),
            glowing: rng.chance(0.5),
        }
    }
}

impl RecipeBook {
    /// Up to 30 unlocked recipes and up to 10 flagged ones.
    pub fn generate(rng: &mut Rng) -> Self {
        let names = |rng: &mut Rng, max: usize| -> Vec<String> {
            (0..rng.count(0, max))
                .map(|_| (*rng.pick(&RECIPES)).to_owned())
                .collect()
        };
        Self {
            recipes: names(rng, 30),
            to_be_displayed: names(rng, 10),
            is_filtering_craftable: rng.chance(0.5),
            is_gui_open: rng.chance(0.5),
            is_furnace_filtering_craftable: rng.chance(0.5),
            is_furnace_gui_open: rng.chance(0.5),
            is_blasting_furnace_filtering_craftable: rng.chance(0.5),
            is_blasting_furnace_gui_open: rng.chance(0.5),
            is_smoker_filtering_craftable: rng.chance(0.5),
            is_smoker_gui_open: rng.chance(0.5),
        }
    }
}

impl Player {
    /// A random player: up to 40 inventory items and 27 ender items, each optional part
    /// present half of the time.
    pub fn generate(rng: &mut Rng) -> Self {
        let items = |rng: &mut Rng, max: usize| -> Vec<Item> {
            (0..rng.count(0, max))
                .map(|_| Item::generate(rng))
                .collect()
        };
        Self {
            game_type: GameType::generate(rng),
            previous_game_type: GameType::generate(rng),
            score: rng.next_u64(),
            dimension: (*rng.pick(&DIMENSIONS)).to_owned(),
            selected_item_slot: rng.next_u32(),
            selected_item: Item::generate(rng),
            spawn_dimension: rng.maybe(|rng| (*rng.pick(&DIMENSIONS)).to_owned()),
            spawn_x: rng.next_u64() as i64,
            spawn_y: rng.next_u64() as i64,
            spawn_z: rng.next_u64() as i64,
            spawn_forced: rng.maybe(|rng| rng.chance(0.5)),
            sleep_timer: rng.next_u32() as u16,
            food_exhaustion_level: rng.f32(),
            food_saturation_level: rng.f32(),
            food_tick_timer: rng.next_u32(),
            xp_level: rng.next_u32(),
            xp_p: rng.f32(),
            xp_total: rng.next_u32() as i32,
            xp_seed: rng.next_u32() as i32,
            inventory: items(rng, 40),
            ender_items: items(rng, 27),
            abilities: Abilities::generate(rng),
            entered_nether_position: rng.maybe(vec3),
            root_vehicle: rng.maybe(|rng| Vehicle {
                uuid: uuid(rng),
                entity: Entity::generate(rng),
            }),
            shoulder_entity_left: rng.maybe(Entity::generate),
            shoulder_entity_right: rng.maybe(Entity::generate),
            seen_credits: rng.chance(0.5),
            recipe_book: RecipeBook::generate(rng),
        }
    }
}

impl Players {
    /// `n` players drawn from `rng`.
    pub fn generate(rng: &mut Rng, n: usize) -> Self {
        Self {
            players: (0..n).map(|_| Player::generate(rng)).collect(),
        }
    }
}
