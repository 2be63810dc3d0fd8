import Foundation

/// Finds the YAML files of a working tree that may hold specs.
public enum SpecDirectory {
    /// Directories never searched: tool output and dependencies, not specs.
    static let skipped: Set<String> = ["node_modules", "target", "dbt_packages", "logs", "venv"]

    /// YAML files under `root`, as paths relative to it, sorted. Hidden directories are skipped.
    public static func yamlFiles(under root: URL) throws -> [String] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SpecDirectoryError.notADirectory(root.path)
        }
        guard let walker = manager.enumerator(at: root, includingPropertiesForKeys: [.isDirectoryKey]) else {
            throw SpecDirectoryError.notADirectory(root.path)
        }
        var found: [String] = []
        let base = root.standardizedFileURL.path
        for case let url as URL in walker {
            let name = url.lastPathComponent
            let isDir = (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) ?? false
            if isDir {
                if name.hasPrefix(".") || skipped.contains(name) { walker.skipDescendants() }
                continue
            }
            guard name.hasSuffix(".yaml") || name.hasSuffix(".yml") else { continue }
            let full = url.standardizedFileURL.path
            found.append(full.hasPrefix(base + "/") ? String(full.dropFirst(base.count + 1)) : full)
        }
        return found.sorted()
    }

    /// Reads and validates every spec under `root`; paths in diagnostics are shown as `display/relative`.
    public static func catalog(under root: URL, display: String) throws -> SpecCatalog {
        var inRepository: [String: String] = [:]
        let files = try yamlFiles(under: root).map { relative -> (path: String, bytes: Data) in
            let shown = display == "." ? relative : "\(display)/\(relative)"
            inRepository[shown] = SpecLocation.repositoryPath(relative, root: root)
            let bytes = (try? Data(contentsOf: root.appendingPathComponent(relative))) ?? Data()
            return (shown, bytes)
        }
        return SpecCatalog(files: files) { SpecLocation.isRead(inRepository[$0] ?? $0) }
    }
}

/// Why a directory could not be searched for specs.
public enum SpecDirectoryError: Error, CustomStringConvertible {
    case notADirectory(String)

    public var description: String {
        switch self {
        case .notADirectory(let path): return "\(path) is not a directory"
        }
    }
}
