import CCurl
import Foundation
import GRDB
import GitSource

/// What this binary is and what it was built and linked with: `pipeline-agent version` and the
/// `pipeline_agent_build_info` metric.
public struct BuildInfo: Sendable, Codable, Hashable {
    /// The release this build is.
    public static let releaseVersion = "0.1.0"

    public let version: String
    public let swift: String
    public let libgit2: String
    public let libcurl: String
    public let sqlite: String
    public let platform: String

    /// Read from the linked libraries and the running kernel.
    public static func current() -> BuildInfo {
        BuildInfo(
            version: releaseVersion, swift: swiftVersion, libgit2: Libgit2.version,
            libcurl: libcurlVersion, sqlite: sqliteVersion,
            platform: platform)
    }

    private static var swiftVersion: String {
        #if swift(>=6.3)
            return "6.3 or later"
        #elseif swift(>=6.2)
            return "6.2"
        #else
            return "6.1 or earlier"
        #endif
    }

    /// From `curl_version()`'s "libcurl/8.14.1 OpenSSL/3.5.1 …" (the version-info struct's selector is a macro).
    private static var libcurlVersion: String {
        let text = String(cString: curl_version())
        return text.split(separator: " ").first.map { String($0.drop { $0 != "/" }.dropFirst()) } ?? text
    }

    private static var sqliteVersion: String {
        (try? DatabaseQueue().read { try String.fetchOne($0, sql: "SELECT sqlite_version()") }) ?? "unknown"
    }

    private static var platform: String {
        var name = utsname()
        guard uname(&name) == 0 else { return "unknown" }
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return "\(text(name.sysname)) \(text(name.release)) \(text(name.machine))"
    }
}
