import Foundation

extension AgentConfigCheck {
    /// What `run` refuses to start with, beyond `validate --config`'s errors: every environment variable the
    /// config names (source token, webhook secret, channel URLs and keys, granted secrets) must be set and
    /// non-empty in `environment`. An empty webhook secret would accept an empty token; an empty routing key
    /// or URL fails only when the first alert is due, days later.
    /// `serving`: the HTTP server will run (not `run --once`), so its webhook secret is needed too.
    public static func environmentDiagnostics(
        for config: AgentConfig, environment: [String: String], serving: Bool
    ) -> [Diagnostic] {
        var check = AgentConfigCheck(config: config, catalog: SpecCatalog(files: []), floor: ProtectFloor([]))
        for (path, variable) in namedVariables(config) where serving || !path.hasPrefix("http.") {
            let value = environment[variable]
            guard value?.isEmpty ?? true else { continue }
            check.report(
                .error, path,
                "\(path) names \(variable), which is \(value == nil ? "not set" : "empty") in the agent's environment; "
                    + "set it (systemd: Environment= or EnvironmentFile=), or remove \(path)")
        }
        return check.diagnostics
    }

    /// Each config key that names an environment variable, with the variable, in a stable order.
    static func namedVariables(_ config: AgentConfig) -> [(path: String, variable: String)] {
        var named: [(String, String)] = []
        if let token = config.source.tokenEnv { named.append(("source.tokenEnv", token)) }
        if let database = config.state.postgres?.urlEnv { named.append(("state.postgres.urlEnv", database)) }
        if let secret = config.http?.webhookSecretEnv { named.append(("http.webhookSecretEnv", secret)) }
        if let token = config.http?.readTokenEnv { named.append(("http.readTokenEnv", token)) }
        for (name, channel) in (config.notifications ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let url = channel.urlEnv { named.append(("notifications.\(name).urlEnv", url)) }
            if let key = channel.routingKeyEnv { named.append(("notifications.\(name).routingKeyEnv", key)) }
            if let hmac = channel.hmacSecretEnv { named.append(("notifications.\(name).hmacSecretEnv", hmac)) }
        }
        for (name, grant) in (config.secrets ?? [:]).sorted(by: { $0.key < $1.key }) {
            named.append(("secrets.\(name).env", grant.env))
        }
        return named
    }
}

extension AgentConfigCheck {
    /// What `run` checks at start: `validate --config`'s errors about the files the config names, except a
    /// missing repository path, which `run` judges against what it fetched before (an outage, once it has).
    public static func startupDiagnostics(for config: AgentConfig) -> [Diagnostic] {
        var check = AgentConfigCheck(config: config, catalog: SpecCatalog(files: []), floor: ProtectFloor([]))
        check.checkSource(repositoryPath: false)
        check.checkTrust()
        check.checkChannels()
        return check.diagnostics.filter { $0.severity == .error }
    }
}
