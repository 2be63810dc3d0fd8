import Foundation

/// Where the agent reads specs in the watched repository. One rule, used by the agent's reader and
/// by `validate`, so that a spec `validate` accepts is never one the agent silently ignores.
public enum SpecLocation {
    /// Top-level directories holding specs: Pipeline documents and Approval documents.
    public static let directories = ["pipelines", "approvals"]

    /// Whether the agent reads `path` (relative to the repository root) as a spec file.
    public static func isRead(_ path: String) -> Bool {
        // Bytes, not characters: the catalog asks for every file of the head (1,000s) after each push.
        let bytes = Array(path.utf8)
        guard bytes.count > 5, bytes.last != UInt8(ascii: "/") else { return false }
        let yaml = bytes.suffix(5).elementsEqual(".yaml".utf8) || bytes.suffix(4).elementsEqual(".yml".utf8)
        guard yaml, let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else { return false }
        return directories.contains { $0.utf8.elementsEqual(bytes[..<slash]) }
    }

    /// `path` relative to the repository root, when `root` is the directory `validate` was given: a
    /// directory named like a spec directory is taken to be that directory of the repository.
    public static func repositoryPath(_ relative: String, root: URL) -> String {
        let name = root.standardizedFileURL.lastPathComponent
        return directories.contains(name) ? "\(name)/\(relative)" : relative
    }

    /// The error for a file that holds specs where the agent does not read them.
    static func misplaced(_ file: String) -> Diagnostic {
        Diagnostic(
            .error, file: file, at: .start,
            "the agent reads specs only from pipelines/ and approvals/ at the repository root, so it would ignore "
                + "this file; move it to pipelines/ (or approvals/ for an Approval)")
    }
}
