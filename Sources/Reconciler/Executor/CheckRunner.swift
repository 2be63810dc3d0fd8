import Foundation
import SpecModel

/// The outcome of one verification or health check.
public struct CheckResult: Sendable, Hashable {
    public enum Level: String, Sendable, Codable {
        case passed, warning, failed
    }

    public let name: String
    public let level: Level
    /// The number the thresholds were applied to, when there is one.
    public let measured: Int64?
    public let message: String

    /// The stage health this result implies.
    public var health: Health {
        switch level {
        case .passed: return .healthy
        case .warning: return .warning
        case .failed: return .critical
        }
    }
}

/// Runs checks against a checkout: commands, dbt results files and HTTP endpoints.
struct CheckRunner {
    let checkout: String
    let environment: [String: String]
    let logDirectory: String
    let notBefore: Date
    let cancellation: CancellationFlag?
    var runner: any CommandRunner = SystemCommandRunner()
    /// The OS user check commands run as (the stage's step user).
    var user: StepUser? = nil
    var redactor: SecretRedactor = .none

    func run(_ check: Check) -> CheckResult {
        if let command = check.run { return runCommand(check, command) }
        if let path = check.dbtResults { return DbtResults.evaluate(check, path: "\(checkout)/\(path)", notBefore: notBefore) }
        if let url = check.http { return HTTPCheck.evaluate(check, url: url) }
        return CheckResult(name: check.name, level: .failed, measured: nil, message: "check has nothing to run")
    }

    private func runCommand(_ check: Check, _ command: String) -> CheckResult {
        let logPath = "\(logDirectory)/check-\(check.name).log"
        let outcome = runner.run(
            CommandRequest(
                command, directory: check.workdir.map { "\(checkout)/\($0)" } ?? checkout, environment: environment,
                logPath: logPath, timeout: .milliseconds(check.timeout?.milliseconds ?? 600_000), captureLimit: 1 << 20,
                cancellation: cancellation, user: user, redactor: redactor))
        guard outcome.succeeded else {
            return CheckResult(name: check.name, level: .failed, measured: nil, message: "exit status \(outcome.exitStatus)")
        }
        guard check.warnIf != nil || check.errorIf != nil else {
            return CheckResult(name: check.name, level: .passed, measured: nil, message: "exit status 0")
        }
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let lastLine = text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let line = lastLine, let value = Double(line.trimmingCharacters(in: .whitespaces)) else {
            return CheckResult(
                name: check.name, level: .failed, measured: nil, message: "the last line of output is not a number")
        }
        return Thresholds.judge(check, value: value, unit: "")
    }
}

/// warnIf / errorIf applied to a measured number.
enum Thresholds {
    static func judge(_ check: Check, value: Double, unit: String, defaultError: Threshold? = nil) -> CheckResult {
        let measured = Int64(value.rounded())
        let shown = "\(value.truncatingRemainder(dividingBy: 1) == 0 ? String(measured) : String(value))\(unit)"
        if let error = check.errorIf ?? (check.warnIf == nil ? defaultError : nil), error.isCrossed(by: value) {
            return CheckResult(name: check.name, level: .failed, measured: measured, message: "\(shown) crosses errorIf \(error)")
        }
        if let warn = check.warnIf, warn.isCrossed(by: value) {
            return CheckResult(name: check.name, level: .warning, measured: measured, message: "\(shown) crosses warnIf \(warn)")
        }
        return CheckResult(name: check.name, level: .passed, measured: measured, message: "\(shown) within thresholds")
    }
}

/// An HTTP check through libcurl: status and latency.
enum HTTPCheck {
    static func evaluate(_ check: Check, url: String) -> CheckResult {
        let started = ContinuousClock.now
        let response: HTTPResponse
        do {
            response = try CurlClient.get(url: url, timeout: .milliseconds(check.timeout?.milliseconds ?? 10_000))
        } catch {
            return CheckResult(name: check.name, level: .failed, measured: nil, message: "\(error)")
        }
        let elapsed = ContinuousClock.now - started
        let latency = elapsed.wholeMilliseconds
        let expected = check.expectStatus ?? 200
        guard response.status == expected else {
            return CheckResult(
                name: check.name, level: .failed, measured: latency, message: "status \(response.status), expected \(expected)")
        }
        if let limit = check.maxLatency, latency > limit.milliseconds {
            return CheckResult(name: check.name, level: .warning, measured: latency, message: "\(latency) ms, over \(limit)")
        }
        return CheckResult(
            name: check.name, level: .passed, measured: latency, message: "status \(response.status) in \(latency) ms")
    }
}

/// Runs a single check outside a promotion (health monitoring, tests).
public enum Verification {
    public static func run(
        _ check: Check, checkout: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        notBefore: Date, logDirectory: String? = nil, runner: any CommandRunner = SystemCommandRunner(),
        user: StepUser? = nil, redactor: SecretRedactor = .none
    ) -> CheckResult {
        CheckRunner(
            checkout: checkout, environment: environment, logDirectory: logDirectory ?? checkout, notBefore: notBefore,
            cancellation: nil, runner: runner, user: user, redactor: redactor
        ).run(check)
    }
}
