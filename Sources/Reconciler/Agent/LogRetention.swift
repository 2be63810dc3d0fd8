import Foundation

/// Which promotions' step logs (`<state>/logs/<promotion id>/`) are past `state.logRetention`: the
/// directories last written before the cutoff, except those of promotions still running. Their audit
/// records keep each step's output digest, so a pruned log is missing, never silently different.
enum LogRetention {
    static let defaultRetention: TimeInterval = 90 * 86_400

    /// Promotion ids whose log directory under `logs` was last modified before `cutoff`, oldest id first.
    static func expired(in logs: String, before cutoff: Date, keeping running: Set<Int64>) -> [Int64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? []
        return names.compactMap { name -> Int64? in
            guard let id = Int64(name), !running.contains(id),
                let modified = (try? FileManager.default.attributesOfItem(atPath: "\(logs)/\(name)"))?[.modificationDate]
                    as? Date,
                modified < cutoff
            else { return nil }
            return id
        }.sorted()
    }

    /// Removes the log directories of `ids`; returns the ones that could not be removed, with why.
    static func remove(_ ids: [Int64], in logs: String) -> [String] {
        ids.compactMap { id in
            do {
                try FileManager.default.removeItem(atPath: "\(logs)/\(id)")
                return nil
            } catch {
                return "logs/\(id): \(error.localizedDescription)"
            }
        }
    }
}
