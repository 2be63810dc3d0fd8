import Foundation

/// What `validate --config` checks beyond the schema: the files the config names, and its
/// floor, secrets and channels against the pipelines under a directory.
public struct AgentConfigCheck {
    let config: AgentConfig
    /// The specs the config will govern (those under `validate`'s directory).
    let catalog: SpecCatalog
    let floor: ProtectFloor
    var diagnostics: [Diagnostic] = []

    /// Every problem found, errors and warnings, located in the config file (or in a spec, for a
    /// stage the floor tightens).
    public static func diagnostics(for config: AgentConfig, catalog: SpecCatalog) -> [Diagnostic] {
        var check = AgentConfigCheck(config: config, catalog: catalog, floor: ProtectFloor(config.protect ?? []))
        check.checkSource()
        check.checkTrust()
        check.checkSecrets()
        check.checkChannels()
        check.checkFloor()
        check.checkSharing()
        check.checkHTTPExposure()
        return check.diagnostics
    }

    mutating func report(_ severity: Severity, _ path: String, _ message: String) {
        let location = config.locations[path] ?? config.locations[parent(of: path)] ?? .start
        diagnostics.append(Diagnostic(severity, file: config.file, at: location, message))
    }

    private func parent(of path: String) -> String {
        guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return "" }
        return String(path[..<cut])
    }

    var stagesByPipeline: [(pipeline: String, stages: [Stage])] {
        catalog.pipelines.map { ($0.pipeline.name, $0.pipeline.spec.stages) }
    }

    /// `repositoryPath`: whether a `source.url` path must be a directory now.
    mutating func checkSource(repositoryPath: Bool = true) {
        let url = config.source.url
        if repositoryPath, !url.contains("://"), !url.hasPrefix("git@"), !isDirectory(config.resolve(url)) {
            report(.error, "source.url", "source.url: \(config.resolve(url)) is not a directory; give a repository path or URL")
        }
        if let key = config.source.sshKey, !isReadableFile(config.resolve(key)) {
            report(.error, "source.sshKey", "source.sshKey: cannot read \(config.resolve(key))")
        }
        // The agent takes candidates from its own branch only: a spec naming another is invalid under it.
        let watched = config.source.branch ?? "main"
        for document in catalog.pipelines where document.pipeline.spec.source.branch != watched {
            let branch = document.pipeline.spec.source.branch
            diagnostics.append(
                Diagnostic(
                    .error, file: document.file, at: document.locations["spec.source.branch"] ?? document.location,
                    "source.branch '\(branch)' is not the branch this agent watches ('\(watched)', source.branch in "
                        + "\(config.file)); the agent would keep this pipeline's last valid spec: set source.branch: \(watched)"))
        }
    }

    /// `ha` only means something to agents sharing a PostgreSQL store.
    mutating func checkSharing() {
        guard config.ha != nil, config.state.postgres == nil else { return }
        report(
            .warning, "ha",
            "ha: applies only to agents sharing state.postgres; with SQLite one agent owns state.path and has no lease "
                + "(add state.postgres, or remove ha)")
    }

    mutating func checkHTTPExposure() {
        if let warning = Self.httpExposure(config) { report(.warning, "http.listen", warning) }
    }

    /// The page, the status API and the metrics show what is deployed, who approved it and the audit trail: beyond
    /// this host, only to whoever holds `http.readTokenEnv`. The warning when the config lets anyone read them.
    public static func httpExposure(_ config: AgentConfig) -> String? {
        guard let http = config.http, http.readTokenEnv == nil else { return nil }
        let host = http.listen.split(separator: ":").first.map(String.init) ?? ""
        guard !["127.0.0.1", "localhost", "::1", "[::1]"].contains(host) else { return nil }
        return "http.listen \(http.listen) is reachable beyond this host and http.readTokenEnv is not set: anyone who "
            + "reaches the port reads the web page, /api/v1/status and /metrics (what is deployed, who approved it, the "
            + "audit trail); set http.readTokenEnv, or listen on 127.0.0.1 behind a proxy that authenticates"
    }

    mutating func checkTrust() {
        guard let trust = config.trust else {
            let needsApprovals = stagesByPipeline.contains { pipeline in
                pipeline.stages.contains { floored(pipeline.pipeline, $0).requiredApprovals > 0 }
            }
            if needsApprovals {
                report(
                    .warning, "",
                    "no trust.allowedSigners: no approval can be verified, so stages that need approvals never promote")
            }
            return
        }
        let path = config.resolve(trust.allowedSigners)
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            report(.error, "trust.allowedSigners", "trust.allowedSigners: cannot read \(path)")
            return
        }
        let signers = AllowedSigners(text)
        for line in signers.badLines {
            report(
                .error, "trust.allowedSigners",
                "trust.allowedSigners: \(path):\(line): not a signer line (expected `principal [options] ssh-ed25519 AAAA…`)")
        }
        if signers.principals.isEmpty {
            report(.error, "trust.allowedSigners", "trust.allowedSigners: \(path) lists no signer, so no approval can count")
        }
        for (index, rule) in (config.protect ?? []).enumerated() {
            for approver in rule.approvers ?? [] where !signers.covers(approver) {
                report(
                    .warning, "protect[\(index)].approvers",
                    "protect[\(index)]: \(approver) has no key in \(trust.allowedSigners), so cannot approve")
            }
        }
    }

    /// Grants name `pipeline/stage` globs; a grant that reaches a stage no `protect` rule covers is a
    /// secret any committer can read (they decide what that stage runs).
    private mutating func checkSecrets() {
        let pairs = stagesByPipeline.flatMap { pipeline in pipeline.stages.map { "\(pipeline.pipeline)/\($0.name)" } }
        for (name, grant) in (config.secrets ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let patterns = grant.stages, !patterns.isEmpty else {
                report(
                    .warning, "secrets.\(name)",
                    "secret \(name) has no stages, so no step sees it; grant it with stages: [<pipeline>/<stage>, …]")
                continue
            }
            for pattern in patterns {
                let reached = pairs.filter { ProtectFloor.glob(pattern, matches: $0) }
                if !pairs.isEmpty, reached.isEmpty {
                    report(
                        .warning, "secrets.\(name).stages",
                        "secret \(name) is granted to '\(pattern)', which matches no pipeline/stage"
                            + suggestion(pattern, pairs.sorted()))
                }
                for pair in (pairs.isEmpty ? [pattern] : reached) where !protected(pair) {
                    report(
                        .warning, "secrets.\(name).stages",
                        "secret \(name) reaches \(pair), which no protect rule covers: anyone who can merge to the watched "
                            + "branch can add a step there that reads it; protect that stage or narrow the grant")
                }
            }
        }
    }

    /// Whether a `protect` rule matches the pair (a glob pair is covered when a rule's globs match it as written).
    private func protected(_ pair: String) -> Bool {
        let parts = pair.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return false }
        return !floor.rules(pipeline: parts[0], stage: parts[1]).isEmpty
    }

    mutating func checkChannels() {
        let channels = config.notifications ?? [:]
        for (name, channel) in channels.sorted(by: { $0.key < $1.key }) {
            if channel.type == "pagerduty", channel.routingKeyEnv == nil {
                report(.error, "notifications.\(name)", "channel \(name): pagerduty needs routingKeyEnv")
            }
            if channel.type != "pagerduty", channel.url == nil, channel.urlEnv == nil {
                report(.error, "notifications.\(name)", "channel \(name): \(channel.type) needs url or urlEnv")
            }
        }
        for (pipeline, stages) in stagesByPipeline {
            for stage in stages {
                for channel in stage.notify ?? [] where channels[channel] == nil {
                    report(
                        .warning, "notifications",
                        "\(pipeline)/\(stage.name) notifies '\(channel)', which this config does not define")
                }
            }
        }
    }

    func floored(_ pipeline: String, _ stage: Stage) -> Stage {
        floor.apply(pipeline: pipeline, to: stage).stage
    }

    private func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    private func isReadableFile(_ path: String) -> Bool {
        FileManager.default.isReadableFile(atPath: path) && !isDirectory(path)
    }
}

/// The principals of an OpenSSH allowed_signers file (`principal[,principal…] [options] keytype base64`).
struct AllowedSigners {
    private(set) var principals: [String] = []
    private(set) var badLines: [Int] = []

    init(_ text: String) {
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let keyAt = fields.firstIndex { $0.hasPrefix("ssh-") || $0.hasPrefix("ecdsa-") || $0.hasPrefix("sk-") }
            guard let keyAt, keyAt >= 1, keyAt + 1 < fields.count, Data(base64Encoded: fields[keyAt + 1]) != nil else {
                badLines.append(index + 1)
                continue
            }
            principals += fields[0].split(separator: ",").map { String($0).lowercased() }
        }
    }

    /// True when a line names the principal (OpenSSH also allows `*` patterns there).
    func covers(_ principal: String) -> Bool {
        principals.contains { ProtectFloor.glob($0, matches: principal.lowercased()) }
    }
}
