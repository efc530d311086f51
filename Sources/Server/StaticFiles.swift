import Glibc
import WebSocket

/// The browser client's files (HTML, CSS, ES modules), read once at startup and served from memory.
struct StaticFiles: Sendable {
    /// Largest file served, and most files: the client is a handful of small files.
    static let fileBytesMax = 4 << 20
    static let fileCountMax = 256

    /// Prebuilt responses by URL path (`/` is `index.html`).
    let responses: [String: [UInt8]]
    /// Where they came from, for the start-up log line.
    let directory: String?

    /// Loads from `override`, else the resources beside the executable, else the source tree.
    init(override: String?) {
        var candidates: [String] = []
        if let override { candidates.append(override) }
        // An explicit directory is the only place looked at: a typo should not quietly serve other files.
        if override == nil, let executable = StaticFiles.executableDirectory() {
            candidates.append(executable + "/Tickwire_Server.resources/Static")
            candidates.append(executable + "/Tickwire_Server.resources")
        }
        if override == nil { candidates.append(String(#filePath.dropLast("StaticFiles.swift".count)) + "Static") }
        for directory in candidates {
            let files = StaticFiles.load(directory)
            if files["/index.html"] != nil {
                var responses = files
                responses["/"] = files["/index.html"]
                self.responses = responses
                self.directory = directory
                return
            }
        }
        responses = [:]
        directory = nil
    }

    private static func executableDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let path = buffer[0..<length].withUnsafeBufferPointer { String(decoding: UnsafeRawBufferPointer($0), as: UTF8.self) }
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }

    /// Every regular file directly in `directory`, as complete 200 responses.
    private static func load(_ directory: String) -> [String: [UInt8]] {
        guard let handle = opendir(directory) else { return [:] }
        defer { closedir(handle) }
        var responses: [String: [UInt8]] = [:]
        while responses.count < fileCountMax, let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard !name.hasPrefix("."), let type = contentType(of: name), let body = readFile(directory + "/" + name) else { continue }
            var response = HTTPResponse(status: 200, body: body, contentType: type, headers: [("Cache-Control", "no-cache")])
            response.headers.append(("X-Content-Type-Options", "nosniff"))
            responses["/" + name] = response.serialized()
        }
        return responses
    }

    private static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count <= fileBytesMax {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return bytes.count <= fileBytesMax ? bytes : nil
    }

    static func contentType(of name: String) -> String? {
        if name.hasSuffix(".html") { return "text/html; charset=utf-8" }
        if name.hasSuffix(".js") || name.hasSuffix(".mjs") { return "text/javascript; charset=utf-8" }
        if name.hasSuffix(".css") { return "text/css; charset=utf-8" }
        if name.hasSuffix(".svg") { return "image/svg+xml" }
        if name.hasSuffix(".png") { return "image/png" }
        if name.hasSuffix(".json") { return "application/json" }
        return nil
    }
}
