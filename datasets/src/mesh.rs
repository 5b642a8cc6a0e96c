//! The `mesh` dataset: a triangle mesh (modeled on the public rust_serialization_benchmark's
//! `mesh` dataset): one long vector of plain `f32` data, the best case for zero-copy formats.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// Triangles in the benchmark's `mesh` dataset.
pub const MESH_TRIANGLES: usize = 125_000;

/// A point or direction in 3D space.
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
pub struct Vector3 {
    /// X coordinate.
    pub x: f32,
    /// Y coordinate.
    pub y: f32,
    /// Z coordinate.
    pub z: f32,
}

/// A triangle: three vertices and a face normal.
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
pub struct Triangle {
    /// First vertex.
    pub v0: Vector3,
    /// Second vertex.
    pub v1: Vector3,
    /// Third vertex.
    pub v2: Vector3,
    /// Face normal.
    pub normal: Vector3,
}

/// A triangle mesh: the `mesh` dataset's value.
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
pub struct Mesh {
    /// The triangles.
    pub triangles: Vec<Triangle>,
}

impl Vector3 {
    /// A vector with coordinates uniform in `[0, 1)`.
    pub fn generate(rng: &mut Rng) -> Self {
        Self {
            x: rng.f32(),
            y: rng.f32(),
            z: rng.f32(),
        }
    }
}

impl Triangle {
    /// A triangle with random vertices and normal.
    pub fn generate(rng: &mut Rng) -> Self {
        Self {
            v0: Vector3::generate(rng),
            v1: Vector3::generate(rng),
            v2: Vector3::generate(rng),
            normal: Vector3::generate(rng),
        }
    }
}

impl Mesh {
    /// A mesh of `n` triangles drawn from `rng`.
    pub fn generate(rng: &mut Rng, n: usize) -> Self {
        Self {
            triangles: (0..n).map(|_| Triangle::generate(rng)).collect(),
        }
    }
}
