import Foundation
import GitSource
import SpecModel

/// What an approver asks `approve` to write.
public struct ApprovalRequest: Sendable {
    public var repository: String
    public var pipeline: String
    public var stage: String
    public var candidate: String
    public var approver: String
    public var key: String
    public var comment: String?
    public var expires: Date?
    public var commit: Bool
    /// The agent's `allowed_signers`, when the approver has it: the signature is checked against it for
    /// `approver` before anything is committed.
    public var allowedSigners: String?

    public init(
        repository: String, pipeline: String, stage: String, candidate: String, approver: String, key: String,
        comment: String? = nil, expires: Date? = nil, commit: Bool = false
    ) {
        self.repository = repository
        self.pipeline = pipeline
        self.stage = stage
        self.candidate = candidate
        self.approver = approver
        self.key = key
        self.comment = comment
        self.expires = expires
        self.commit = commit
    }
}

/// Why `approve` refused.
public struct ApprovalAuthoringError: Error, CustomStringConvertible {
    public let description: String
}

/// Writes a signed approval file into a working copy of the watched repository.
public enum ApprovalAuthoring {
    /// The conventional path: `approvals/<pipeline>/<stage>/<candidate12>-<approver>.yaml`.
    public static func path(for request: ApprovalRequest) -> String {
        let who = String(request.approver.map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "-" })
        return "approvals/\(request.pipeline)/\(request.stage)/\(request.candidate.prefix(12))-\(who).yaml"
    }

    /// Writes and signs the file (and commits both when asked); returns the file's path in the repository.
    public static func write(_ request: ApprovalRequest) throws -> String {
        let id = try checkCommit(request)
        let (pipeline, stage) = try bound(repository: request.repository, pipeline: request.pipeline, stage: request.stage)
        try ApprovalCandidacy.check(id, of: pipeline, in: try GitRepository.open(at: request.repository))
        let relative = path(for: request)
        let file = "\(request.repository)/\(relative)"
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(document(request, stageDigest: ApprovalDigest.of(stage)).utf8).write(to: URL(fileURLWithPath: file))
        try? FileManager.default.removeItem(atPath: file + ".sig")
        try run(
            #"ssh-keygen -q -Y sign -f "$PA_KEY" -n pipeline-agent "$PA_FILE""#, ["PA_KEY": request.key, "PA_FILE": file],
            in: request.repository)
        if let signers = request.allowedSigners {
            try ApprovalCandidacy.verifySignature(file: file, principal: request.approver, allowedSigners: signers)
        }
        if request.commit {
            let message = "Approve \(request.candidate.prefix(12)) for \(request.pipeline)/\(request.stage) (\(request.approver))"
            try run(
                #"git add -- "$PA_FILE" "$PA_FILE.sig" && git commit -q -m "$PA_MESSAGE" -- "$PA_FILE" "$PA_FILE.sig""#,
                ["PA_FILE": relative, "PA_MESSAGE": message], in: request.repository)
        }
        return relative
    }

    /// The signing time and a random id lead as a YAML comment, so renewing an approval (after the
    /// stage's spec changed) always writes a new file version, which a new commit adds — even within
    /// the same second.
    static func document(
        _ request: ApprovalRequest, stageDigest: String, signedAt: Date = Date(), id: UUID = UUID()
    ) -> String {
        let stamp = "\(ISO8601DateFormatter().string(from: signedAt)), id \(id.uuidString.prefix(8).lowercased())"
        var lines = [
            "# signed with pipeline-agent approve at \(stamp)",
            "apiVersion: \(SpecSchema.apiVersion)", "kind: Approval", "pipeline: \(request.pipeline)", "stage: \(request.stage)",
            "candidate: \"\(request.candidate)\"", "approver: \(request.approver)", "stageDigest: \(stageDigest)",
        ]
        if let comment = request.comment { lines.append("comment: \(CanonicalJSON.serialize(.string(comment)))") }
        if let expires = request.expires { lines.append("expires: \(ISO8601DateFormatter().string(from: expires))") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The stage an approval for `pipeline`/`stage` vouches for, from the specs in a working copy of the
    /// watched repository; refuses a pipeline or stage that is not there, or a spec that is invalid.
    public static func boundStage(repository: String, pipeline: String, stage: String) throws -> Stage {
        try bound(repository: repository, pipeline: pipeline, stage: stage).stage
    }

    static func bound(repository: String, pipeline: String, stage: String) throws -> (pipeline: Pipeline, stage: Stage) {
        let catalog = try SpecDirectory.catalog(under: URL(fileURLWithPath: repository), display: repository)
        guard let document = catalog.pipelines.first(where: { $0.pipeline.name == pipeline }) else {
            let known = catalog.pipelines.map(\.pipeline.name).sorted().joined(separator: ", ")
            throw ApprovalAuthoringError(
                description: "no pipeline '\(pipeline)' in \(repository)/pipelines (found: \(known.isEmpty ? "none" : known))")
        }
        if let error = catalog.diagnostics.first(where: { $0.file == document.file && $0.severity == .error }) {
            throw ApprovalAuthoringError(
                description: "the spec of \(pipeline) is invalid, so there is nothing to approve yet: \(error)")
        }
        guard let found = document.pipeline.stage(named: stage) else {
            let known = document.pipeline.spec.stages.map(\.name).joined(separator: ", ")
            throw ApprovalAuthoringError(description: "pipeline \(pipeline) has no stage '\(stage)' (stages: \(known))")
        }
        return (document.pipeline, found)
    }

    private static func checkCommit(_ request: ApprovalRequest) throws -> ObjectID {
        guard let id = ObjectID(hex: request.candidate), id.hex == request.candidate else {
            throw ApprovalAuthoringError(
                description: "--candidate must be a full 40-character lowercase commit id, not '\(request.candidate)'")
        }
        let repository = try GitRepository.open(at: request.repository)
        guard repository.containsCommit(id) else {
            throw ApprovalAuthoringError(
                description: "\(request.candidate) is not a commit of the repository \(request.repository)")
        }
        return id
    }

    private static func run(_ command: String, _ variables: [String: String], in directory: String) throws {
        let environment = ProcessInfo.processInfo.environment.merging(variables) { $1 }
        let result = SystemCommandRunner().capture(command, directory: directory, environment: environment)
        guard result.succeeded else {
            throw ApprovalAuthoringError(description: "\(command.split(separator: " ").first ?? "") failed: \(result.output)")
        }
    }
}
