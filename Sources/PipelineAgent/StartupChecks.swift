import ArgumentParser
import Foundation
import GitSource
import Logging
import Reconciler
import SpecModel

/// What `run` checks before it takes the state directory's work on: a misconfiguration found now is
/// one clear error at start, not prod waiting for ever or an alert that fails days later.
enum StartupChecks {
    /// The config's errors (the files it names, as `validate --config` reports them) and every
    /// environment variable it names set and non-empty (the webhook secret only for the service); prints
    /// them and exits 2 when there is one.
    static func refuseMisconfiguration(_ config: AgentConfig, serving: Bool) throws {
        let environment = ProcessInfo.processInfo.environment
        let errors =
            AgentConfigCheck.startupDiagnostics(for: config)
            + AgentConfigCheck.environmentDiagnostics(for: config, environment: environment, serving: serving)
        guard !errors.isEmpty else { return }
        for error in errors { FileHandle.standardError.write(Data("\(error.description)\n".utf8)) }
        FileHandle.standardError.write(Data("the agent did not start: fix the config or its environment (above)\n".utf8))
        throw ExitCode(2)
    }

    /// At the first start (nothing fetched yet), lists the source's refs: a source that refuses the agent (no
    /// such repository, credentials, no such branch) stops the start; one that cannot be reached now is retried
    /// with backoff. Once the mirror holds the branch, a failing source is an outage: recorded, never fatal.
    static func refuseUnusableSource(_ session: AgentSession, logger: Logger) throws {
        guard !session.hasLastGoodState else { return }
        do {
            try session.checkSource()
        } catch let error as GitError where error.isTransient {
            logger.warning("the source is not reachable yet; retrying with backoff", metadata: ["error": "\(error)"])
        } catch {
            FileHandle.standardError.write(
                Data("the agent did not start: source \(session.mirror.url), branch \(session.branch): \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// One line that says what this agent is about to do, for whoever reads the service log.
    static func summary(_ config: AgentConfig, session: AgentSession, once: Bool, logger: Logger) {
        if !once, let exposure = AgentConfigCheck.httpExposure(config) { logger.warning("\(exposure)") }
        let approvals = config.trust.map { "verified against \($0.allowedSigners)" } ?? "off (no trust.allowedSigners)"
        logger.info(
            "pipeline-agent starting",
            metadata: [
                "version": "\(BuildInfo.releaseVersion)",
                "mode": "\(once ? "run --once" : "service")",
                "source": "\(RemoteDisplay.redacted(session.mirror.url))",
                "branch": "\(session.branch)",
                "pollInterval": "\(config.source.pollInterval?.seconds ?? 60)s",
                "state": "\(config.stateDirectory)",
                "http": "\(config.http?.listen ?? "off")",
                "webhooks": "\(config.http?.webhookSecretEnv == nil ? "off" : "on")",
                "page": "\(pageAccess(config, once: once))",
                "maxConcurrentPromotions": "\(config.execution?.concurrentPromotions ?? 4)",
                "approvals": "\(approvals)",
                "isolation": "\(session.isolation.summary)",
                "witness": "\(config.witness == nil ? "off" : "on")",
            ])
    }
}

extension StartupChecks {
    /// Where the web page is and who may read it, for the start-up line.
    static func pageAccess(_ config: AgentConfig, once: Bool) -> String {
        guard let http = config.http, !once else { return "off" }
        let reader = http.readTokenEnv == nil ? "open to whoever reaches the port" : "needs http.readTokenEnv"
        return "http://\(http.listen)/ (\(reader))"
    }
}

/// A remote URL as it may be logged: without a password or token in its user part.
enum RemoteDisplay {
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + "***" + String(url[at...])
    }
}
