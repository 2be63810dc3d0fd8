import Foundation
import GitSource
import Logging
import SpecModel

/// Reads the specs (pipelines and approvals) of a commit from the mirror. Files are parsed
/// again only when their blob changed, so a pass over an unchanged branch costs one tree listing.
public final class SpecReader {

    private let directories: [String]
    private let logger: Logger
    private var cache: [ObjectID: SpecFile] = [:]
    /// Parsed files remembered across restarts, by blob, path and build of the agent.
    private let persistent: CacheAccess?
    /// How many blobs were parsed since creation (cache misses), for tests and metrics.
    public private(set) var parseCount = 0

    public convenience init(directories: [String] = SpecLocation.directories, logger: Logger) {
        self.init(directories: directories, logger: logger, persistent: nil)
    }

    init(directories: [String] = SpecLocation.directories, logger: Logger, persistent: CacheAccess?) {
        self.directories = directories
        self.logger = logger
        self.persistent = persistent
    }

    /// The validated catalog of every spec file under the spec directories at `commit`.
    public func catalog(at commit: ObjectID, in repository: GitRepository) throws -> SpecCatalog {
        var files: [SpecFile] = []
        var live = Set<ObjectID>()
        for directory in directories {
            for entry in try repository.tree(under: directory, in: commit)
            where entry.kind == .blob && SpecLocation.isRead(entry.path) {
                live.insert(entry.id)
                files.append(try file(for: entry, in: repository))
            }
        }
        cache = cache.filter { live.contains($0.key) }
        return SpecCatalog(parsed: files)
    }

    private func file(for entry: TreeEntry, in repository: GitRepository) throws -> SpecFile {
        if let cached = cache[entry.id], cached.path == entry.path { return cached }
        if let remembered = remembered(entry) {
            cache[entry.id] = remembered
            return remembered
        }
        let bytes: Data
        do {
            bytes = try repository.blob(entry.id, path: entry.path, maxBytes: SpecFile.maxBytes)
        } catch let error as GitError where error.kind == .tooLarge {
            // Let SpecFile word the size error like any other diagnostic.
            bytes = Data(count: SpecFile.maxBytes + 1)
        }
        parseCount += 1
        logger.debug("parsing spec file", metadata: ["path": "\(entry.path)", "blob": "\(entry.id.short)"])
        let parsed = SpecFile(path: entry.path, bytes: bytes)
        cache[entry.id] = parsed
        if let persistent, let json = try? JSONEncoder().encode(parsed) {
            persistent.write("parsed specs") {
                try $0.saveSpecFile(blob: entry.id.hex, path: entry.path, build: CacheAccess.build, json: json)
            }
        }
        return parsed
    }

    /// The file as this build parsed it in an earlier process, if the cache has it.
    private func remembered(_ entry: TreeEntry) -> SpecFile? {
        guard let store = persistent?.reader,
            let json = try? store.specFile(blob: entry.id.hex, path: entry.path, build: CacheAccess.build)
        else { return nil }
        return try? JSONDecoder().decode(SpecFile.self, from: json)
    }
}
