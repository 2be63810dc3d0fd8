import Foundation

/// An operator's request to retry a failed candidate, as `pipeline-agent retry` leaves it in the state
/// directory for the agent (the one writer of the state and the audit log) to record at its next pass.
public struct RetryRequest: Sendable, Codable, Hashable {
    public var pipeline: String
    public var stage: String
    /// Nil: the candidate that failed last on the stage.
    public var candidate: String?
    /// Who asked, as the operator gave it (the audit record's actor).
    public var by: String
    public var reason: String
    public var at: Date

    public init(pipeline: String, stage: String, candidate: String?, by: String, reason: String, at: Date) {
        self.pipeline = pipeline
        self.stage = stage
        self.candidate = candidate
        self.by = by
        self.reason = reason
        self.at = at
    }
}

/// Why a retry cannot be asked for (or was not recorded).
public struct RetryRefusal: Error, CustomStringConvertible {
    public let description: String
}

/// The requests directory (`<state>/requests`, the agent's like the rest of the state directory).
public enum RetryRequests {
    static func directory(_ stateDirectory: String) -> String { "\(stateDirectory)/requests" }

    /// The candidate a request retries: the one named, or the one that failed last on the stage; refused
    /// unless that candidate's last promotion there failed (a retry is not a way to promote something new).
    public static func candidate(for request: RetryRequest, in store: any StateReader) throws -> String {
        let key = StageKey(request.pipeline, request.stage)
        let promotions = try store.promotions().filter { $0.key == key }
        guard let target = request.candidate ?? promotions.last(where: { $0.status.isFailure })?.candidate else {
            throw RetryRefusal(description: "nothing failed on \(key): there is no candidate to retry")
        }
        guard let last = promotions.last(where: { $0.candidate == target }) else {
            throw RetryRefusal(description: "\(target.prefix(12)) was never promoted to \(key), so it has not failed there")
        }
        guard last.status.isFailure else {
            throw RetryRefusal(
                description: "the last promotion of \(target.prefix(12)) to \(key) is \(last.status.rawValue), not failed: "
                    + "nothing to retry")
        }
        return target
    }

    /// Leaves `request` for the agent (written whole, then renamed, so the agent never reads half of one).
    public static func submit(_ request: RetryRequest, stateDirectory: String) throws -> String {
        let folder = directory(stateDirectory)
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let name = "retry-\(Int(request.at.timeIntervalSince1970))-\(UUID().uuidString.prefix(8).lowercased()).json"
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(request).write(to: URL(fileURLWithPath: "\(folder)/.\(name)"))
        guard rename("\(folder)/.\(name)", "\(folder)/\(name)") == 0 else {
            throw RetryRefusal(description: "cannot place the request in \(folder): \(String(cString: strerror(errno)))")
        }
        return "\(folder)/\(name)"
    }

    /// The requests waiting, oldest first, each with its file (nil request: unreadable, to be dropped).
    static func pending(stateDirectory: String) -> [(file: String, request: RetryRequest?)] {
        let folder = directory(stateDirectory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return names.filter { $0.hasPrefix("retry-") && $0.hasSuffix(".json") }.sorted().map { name in
            let file = "\(folder)/\(name)"
            let data = FileManager.default.contents(atPath: file) ?? Data()
            return (file, try? decoder.decode(RetryRequest.self, from: data))
        }
    }
}
