import Foundation

/// File extensions for the media types a model's file outputs and inputs carry, both ways: a `data:image/bmp;…`
/// output is written as `output.bmp`, an `-i image=@photo.webp` input is sent as `data:image/webp;…`.
public enum MediaTypes {
    /// Media type → extension (with its dot). Where several extensions name one type, the usual one.
    static let extensions: [String: String] = [
        "application/epub+zip": ".epub", "application/gzip": ".gz", "application/java-archive": ".jar",
        "application/json": ".json", "application/jsonl": ".jsonl", "application/ld+json": ".jsonld",
        "application/msword": ".doc", "application/octet-stream": ".bin", "application/ogg": ".ogx",
        "application/pdf": ".pdf", "application/rtf": ".rtf", "application/vnd.rar": ".rar",
        "application/x-7z-compressed": ".7z", "application/x-bzip2": ".bz2", "application/x-ndjson": ".ndjson",
        "application/x-sh": ".sh", "application/x-tar": ".tar", "application/xml": ".xml",
        "application/zip": ".zip", "application/vnd.ms-excel": ".xls", "application/vnd.ms-powerpoint": ".ppt",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
        "audio/aac": ".aac", "audio/flac": ".flac", "audio/midi": ".midi", "audio/mpeg": ".mp3", "audio/ogg": ".oga",
        "audio/opus": ".opus", "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/webm": ".weba",
        "font/otf": ".otf", "font/ttf": ".ttf", "font/woff": ".woff", "font/woff2": ".woff2",
        "image/avif": ".avif", "image/bmp": ".bmp", "image/x-ms-bmp": ".bmp", "image/gif": ".gif",
        "image/jpeg": ".jpg", "image/png": ".png", "image/svg+xml": ".svg", "image/tiff": ".tiff",
        "image/vnd.microsoft.icon": ".ico", "image/x-icon": ".ico", "image/webp": ".webp",
        "model/gltf-binary": ".glb", "model/gltf+json": ".gltf", "model/mtl": ".mtl", "model/obj": ".obj",
        "text/calendar": ".ics", "text/css": ".css", "text/csv": ".csv", "text/html": ".html",
        "text/javascript": ".js", "text/markdown": ".md", "text/plain": ".txt",
        "video/3gpp": ".3gp", "video/mp2t": ".ts", "video/mp4": ".mp4", "video/mpeg": ".mpeg", "video/ogg": ".ogv",
        "video/quicktime": ".mov", "video/webm": ".webm", "video/x-msvideo": ".avi",
    ]

    /// Extension → media type, the inverse of `extensions` plus the spellings it does not produce.
    static let types: [String: String] = {
        var types = Dictionary(extensions.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
        for (ext, type) in [
            (".jpeg", "image/jpeg"), (".jpe", "image/jpeg"), (".tif", "image/tiff"), (".mid", "audio/midi"),
            (".wav", "audio/wav"), (".bmp", "image/bmp"), (".ico", "image/vnd.microsoft.icon"), (".htm", "text/html"),
            (".mjs", "text/javascript"), (".ogg", "audio/ogg"), (".m4a", "audio/mp4"), (".mkv", "video/x-matroska"),
        ] {
            types[ext] = type
        }
        return types
    }()

    /// The extension, with its dot, for a media type (`image/bmp` → `.bmp`); "" for one not known. Parameters
    /// (`;charset=…`) and case are ignored.
    public static func fileExtension(for mediaType: String) -> String {
        let bare = mediaType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return extensions[bare.lowercased()] ?? ""
    }

    /// The media type for a file name's extension (`photo.PNG` → `image/png`); `application/octet-stream` for one
    /// not known.
    public static func mediaType(forPath path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return "application/octet-stream" }
        return types[path[dot...].lowercased()] ?? "application/octet-stream"
    }
}
