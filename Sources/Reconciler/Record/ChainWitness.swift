import Crypto
import Foundation
import Logging
import SpecModel

/// Sends a signed checkpoint of the chain head after each promotion and, while the chain grows, once an
/// interval: appended (and synced) to `witness.file`, posted to `witness.channel`.
public final class ChainWitness {
    private let config: WitnessConfig
    private let recorder: Recorder
    private let key: Curve25519.Signing.PrivateKey
    private let clock: @Sendable () -> Date
    private let logger: Logger
    private var lastSeq: Int64 = -1
    private var lastSent: Date?
    private let fileTarget: String?

    public init(
        config: WitnessConfig, agentConfig: AgentConfig, recorder: Recorder, clock: @escaping @Sendable () -> Date, logger: Logger
    ) throws {
        self.config = config
        self.recorder = recorder
        self.clock = clock
        self.logger = logger
        fileTarget = config.file.map(agentConfig.resolve)
        key = try WitnessKey.loadOrCreate(in: agentConfig.stateDirectory)
    }

    /// Sends a checkpoint when the head moved since the last one and `force` (a promotion ended) or the
    /// interval passed. A witness that cannot be reached is logged, never stops the agent.
    public func checkpoint(force: Bool) {
        guard let head = recorder.auditHead, head.seq != lastSeq else { return }
        let now = clock()
        let interval = config.interval?.seconds ?? 3600
        guard force || lastSent.map({ now.timeIntervalSince($0) >= interval }) ?? true else { return }
        let time = AuditTime.format(now)
        let signature =
            (try? key.signature(for: AuditCheckpoint.signedBytes(seq: head.seq, hash: head.hash, time: time))) ?? Data()
        let checkpoint = AuditCheckpoint(
            seq: head.seq, hash: head.hash, time: time, host: ProcessInfo.processInfo.hostName,
            key: WitnessKey.text(of: key.publicKey), signature: signature.base64EncodedString())
        lastSeq = head.seq
        lastSent = now
        if let fileTarget { append(checkpoint, to: fileTarget) }
        if let channel = config.channel {
            var event = NotificationEvent(
                .auditCheckpoint, summary: "audit chain head seq \(head.seq) \(head.hash.prefix(12))", severity: .info)
            event.detail = checkpoint.json
            recorder.announce(event, to: [channel])
        }
    }

    private func append(_ checkpoint: AuditCheckpoint, to path: String) {
        let line = Data((CanonicalJSON.serialize(checkpoint.json) + "\n").utf8)
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            logger.error(
                "cannot open the witness file", metadata: ["path": "\(path)", "error": "\(String(cString: strerror(errno)))"])
            return
        }
        defer { close(descriptor) }
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, line.count) }
        if written != line.count || fsync(descriptor) != 0 {
            logger.error("cannot write the witness file", metadata: ["path": "\(path)"])
        }
    }
}
