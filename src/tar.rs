//! A folder as a POSIX ustar archive, for a browser to download a bag the appliance wrote
//! ([`Appliance::bag_tar`](crate::Appliance::bag_tar)): one file
//! that every system opens (`tar -xf`, Windows' own `tar`, 7-Zip) and that keeps the bag's folders
//! as they are, which BagIt validators need. Only directories and regular files are written (the
//! appliance's bags hold nothing else); the archive is built in memory, a bag being the size of the
//! documents a person chose to export.

use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The size of a tar block.
const BLOCK: usize = 512;

/// The folder `dir` as a tar archive whose entries are under `top/`.
pub fn folder(dir: &Path, top: &str) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    add(&mut out, dir, top)?;
    // The end of the archive: two empty blocks.
    out.resize(out.len() + 2 * BLOCK, 0);
    Ok(out)
}

fn add(out: &mut Vec<u8>, dir: &Path, name: &str) -> io::Result<()> {
    header(out, &format!("{name}/"), 0, b'5', 0o755)?;
    let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    // In name order, so that the same bag always makes the same archive.
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            return Err(io::Error::other(format!("{:?} is not a UTF-8 name", entry.path())));
        };
        let path = format!("{name}/{file_name}");
        let kind = entry.file_type()?;
        if kind.is_dir() {
            add(out, &entry.path(), &path)?;
        } else if kind.is_file() {
            // Opened without following a link, so that a file swapped for one after the listing is
            // refused rather than read from wherever it points.
            let mut bytes = Vec::new();
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(entry.path())?
                .read_to_end(&mut bytes)?;
            header(out, &path, bytes.len() as u64, b'0', 0o644)?;
            out.extend_from_slice(&bytes);
            out.resize(out.len().next_multiple_of(BLOCK), 0);
        } else {
            return Err(io::Error::other(format!("{} is neither a file nor a folder", entry.path().display())));
        }
    }
    Ok(())
}

/// One entry's header block: its path (split into ustar's prefix and name when over 100 bytes),
/// size, type and mode; owner and time are left zero, as they mean nothing on another machine.
fn header(out: &mut Vec<u8>, path: &str, size: u64, kind: u8, mode: u32) -> io::Result<()> {
    let mut block = [0u8; BLOCK];
    let (prefix, name) = split(path)?;
    block[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut block[100..108], u64::from(mode));
    octal(&mut block[108..116], 0);
    octal(&mut block[116..124], 0);
    octal(&mut block[124..136], size);
    octal(&mut block[136..148], 0);
    block[156] = kind;
    block[257..263].copy_from_slice(b"ustar\0");
    block[263..265].copy_from_slice(b"00");
    block[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    // The checksum is taken with its own field as spaces.
    block[148..156].fill(b' ');
    let sum: u64 = block.iter().map(|b| u64::from(*b)).sum();
    octal(&mut block[148..155], sum);
    out.extend_from_slice(&block);
    Ok(())
}

/// ustar's prefix (up to 155 bytes) and name (up to 100 bytes) of a path.
fn split(path: &str) -> io::Result<(&str, &str)> {
    if path.len() <= 100 {
        return Ok(("", path));
    }
    path.char_indices()
        .filter(|(i, c)| *c == '/' && *i <= 155 && path.len() - i - 1 <= 100 && *i + 1 < path.len())
        .map(|(i, _)| (&path[..i], &path[i + 1..]))
        .next()
        .ok_or_else(|| io::Error::other(format!("the path {path} is too long for a tar archive")))
}

/// A number in octal, zero-padded to fill the field but its last byte (a NUL).
fn octal(field: &mut [u8], value: u64) {
    let digits = format!("{value:0width$o}", width = field.len() - 1);
    field[..digits.len()].copy_from_slice(digits.as_bytes());
    field[digits.len()..].fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_becomes_an_archive_that_tar_lists() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("bag/data/deep")).unwrap();
        std::fs::write(dir.path().join("bag/bagit.txt"), "BagIt-Version: 1.0\n").unwrap();
        std::fs::write(dir.path().join("bag/data/deep/page.png"), vec![7u8; 1000]).unwrap();
        let bytes = folder(&dir.path().join("bag"), "bag-1").unwrap();
        assert_eq!(bytes.len() % BLOCK, 0);
        let archive = dir.path().join("bag.tar");
        std::fs::write(&archive, &bytes).unwrap();
        let listed = std::process::Command::new("tar").arg("-tvf").arg(&archive).output().unwrap();
        let text = String::from_utf8_lossy(&listed.stdout);
        assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
        assert!(text.contains("bag-1/bagit.txt") && text.contains("bag-1/data/deep/page.png"), "{text}");
        assert!(text.lines().any(|l| l.contains(" 1000 ") && l.ends_with("page.png")), "{text}");
    }
}
