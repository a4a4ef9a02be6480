//! The built client's files under `/pkg` (docs/BENCHMARKS.md, S8): compressed once at build
//! time (`parlor precompress`), served as the best encoding the browser accepts, and cached
//! for a year when their names carry content hashes.

use std::path::{Path, PathBuf};

use axum::{
    http::{header, HeaderValue},
    Router,
};
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

pub use app::ssr::assets::AssetNames;

/// Files worth compressing: text and WebAssembly. Images and fonts are compressed already.
const COMPRESSIBLE: &[&str] = &["wasm", "js", "css", "json", "svg", "html", "txt"];

/// What `precompress` wrote for one file.
#[derive(Debug)]
pub struct Compressed {
    pub path: PathBuf,
    pub raw: u64,
    pub brotli: u64,
    pub gzip: u64,
}

/// Writes `FILE.br` (Brotli, quality 11) and `FILE.gz` (gzip -9) beside every compressible
/// file under `dir`, replacing older ones. Slow on purpose: it runs once per build, and every
/// visitor's download is smaller for it.
pub fn precompress(dir: &Path) -> std::io::Result<Vec<Compressed>> {
    let mut done = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let compressible = path
                .extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| COMPRESSIBLE.contains(&ext));
            if !compressible {
                continue;
            }
            let raw = std::fs::read(&path)?;
            let brotli = brotli_11(&raw)?;
            let gzip = gzip_9(&raw)?;
            std::fs::write(with_suffix(&path, "br"), &brotli)?;
            std::fs::write(with_suffix(&path, "gz"), &gzip)?;
            done.push(Compressed {
                path,
                raw: raw.len() as u64,
                brotli: brotli.len() as u64,
                gzip: gzip.len() as u64,
            });
        }
    }
    done.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(done)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn brotli_11(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 24,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &raw[..], &mut out, &params)?;
    Ok(out)
}

fn gzip_9(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(raw)?;
    encoder.finish()
}

/// `/pkg`: the client's files, precompressed where `precompress` left a `.br` or `.gz`.
/// Hashed names are immutable; plain ones (a debug build) are checked on every use, and so
/// is the split loader, whose name cargo-leptos does not always change when the parts it
/// names do.
pub fn pkg_files(site_root: &Path, names: &AssetNames) -> Router {
    let dir = site_root.join("pkg");
    let files = |cache: &'static str| {
        tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static(cache),
            ))
            // A cache between here and the browser must keep the encodings apart.
            .layer(SetResponseHeaderLayer::overriding(
                header::VARY,
                HeaderValue::from_static("accept-encoding"),
            ))
            .service(ServeDir::new(&dir).precompressed_br().precompressed_gzip())
    };
    let immutable = if names.hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut router = Router::new().nest_service("/pkg", files(immutable));
    if let Some(loader) = &names.split_loader {
        let file = loader.trim_start_matches("/pkg").to_owned();
        router = router.route_service(
            loader,
            tower::ServiceBuilder::new()
                .map_request(move |mut req: axum::extract::Request| {
                    // ServeDir looks the file up by the path below /pkg.
                    *req.uri_mut() = axum::http::Uri::try_from(file.as_str()).unwrap_or_default();
                    req
                })
                .service(files("no-cache")),
        );
    }
    router
}

/// The lazily loaded parts of a split client (`cargo leptos build --split`): every
/// WebAssembly file under `/pkg` but the main one, and their loader. The service worker
/// fetches them once the page has loaded, so a page opened later finds its part at hand.
pub fn lazy_parts(site_root: &Path, names: &AssetNames) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(site_root.join("pkg")) else {
        return Vec::new();
    };
    let mut parts: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .map(|name| format!("/pkg/{name}"))
        .filter(|path| path.ends_with(".wasm") && *path != names.wasm)
        .chain(names.split_loader.clone())
        .collect();
    parts.sort();
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precompress_writes_smaller_brotli_and_gzip_copies_that_decode_to_the_original() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = "a line of text that repeats\n".repeat(500);
        std::fs::write(dir.path().join("app.js"), &text).expect("write");
        std::fs::write(dir.path().join("photo.png"), [0u8; 64]).expect("write");

        let done = precompress(dir.path()).expect("precompress");

        assert_eq!(done.len(), 1, "only the script is compressible: {done:?}");
        assert!(done[0].brotli < done[0].raw && done[0].gzip < done[0].raw);
        let br = std::fs::read(dir.path().join("app.js.br")).expect("br");
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut decoded).expect("brotli decodes");
        assert_eq!(decoded, text.as_bytes());
        let gz = std::fs::read(dir.path().join("app.js.gz")).expect("gz");
        let mut decoded = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut decoded)
            .expect("gzip decodes");
        assert_eq!(decoded, text);
        assert!(!dir.path().join("photo.png.br").exists());
    }
}
