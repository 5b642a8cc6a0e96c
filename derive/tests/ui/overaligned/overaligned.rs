// An archived type aligned above 16 bytes cannot live in an OwnedArchive, whose buffers are
// aligned to 16: refused when the program is built, not at run time.
use zerocodec::OwnedArchive;

#[derive(rkyv::Archive, rkyv::Serialize)]
#[rkyv(attr(repr(C, align(32))))]
struct Wide {
    lanes: [u64; 4],
}

fn main() {
    let _ = OwnedArchive::<Wide>::from_slice(&[0u8; 32]);
}
