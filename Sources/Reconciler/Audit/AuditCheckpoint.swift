import Crypto
import Foundation

/// A signed statement that the audit chain had `hash` at `seq` at `time`. Kept by a witness the host
/// cannot rewrite, it proves later that the log still holds that head: a log and anchor rewritten
/// together (by root, or by anything that reached the state directory) no longer match it.
public struct AuditCheckpoint: Sendable, Hashable {
    public let seq: Int64
    public let hash: String
    public let time: String
    public let host: String
    /// `ed25519:` and the base64 raw public key that signed it.
    public let key: String
    /// Base64 Ed25519 signature over `signedBytes`.
    public let signature: String

    /// What is signed: a fixed prefix (so no other message can pass for a checkpoint) and the fields.
    public static func signedBytes(seq: Int64, hash: String, time: String) -> Data {
        Data("pipeline-agent audit checkpoint v1\n\(seq)\n\(hash)\n\(time)\n".utf8)
    }

    public var json: JSONValue {
        .object([
            "type": "audit.checkpoint", "seq": .int(seq), "hash": .string(hash), "time": .string(time),
            "host": .string(host), "key": .string(key), "signature": .string(signature),
        ])
    }

    /// A checkpoint line of a witness file, or a webhook body carrying one as `detail`.
    public static func parse(_ line: Substring) -> AuditCheckpoint? {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)), case .object(var members) = value
        else { return nil }
        if case .object(let inner)? = members["detail"] { members = inner }
        guard members["type"] == "audit.checkpoint", case .int(let seq)? = members["seq"],
            let hash = members["hash"]?.stringValue, let time = members["time"]?.stringValue,
            let key = members["key"]?.stringValue, let signature = members["signature"]?.stringValue
        else { return nil }
        return AuditCheckpoint(
            seq: seq, hash: hash, time: time, host: members["host"]?.stringValue ?? "", key: key, signature: signature)
    }

    /// Whether the signature holds for this key.
    public var isSigned: Bool {
        guard key.hasPrefix("ed25519:"), let raw = Data(base64Encoded: String(key.dropFirst(8))),
            let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
            let signatureBytes = Data(base64Encoded: signature)
        else { return false }
        return publicKey.isValidSignature(signatureBytes, for: Self.signedBytes(seq: seq, hash: hash, time: time))
    }
}

/// The agent's checkpoint key: made at first use in the state directory (0600); its public half is
/// written next to it (`witness.pub`) for auditors to keep.
public enum WitnessKey {
    public static let fileName = "witness.key"
    public static let publicFileName = "witness.pub"

    public static func loadOrCreate(in stateDirectory: String) throws -> Curve25519.Signing.PrivateKey {
        let path = "\(stateDirectory)/\(fileName)"
        if let data = FileManager.default.contents(atPath: path) {
            return try Curve25519.Signing.PrivateKey(rawRepresentation: data)
        }
        let key = Curve25519.Signing.PrivateKey()
        guard
            FileManager.default.createFile(atPath: path, contents: key.rawRepresentation, attributes: [.posixPermissions: 0o600])
        else { throw AuditError.unwritable(path: path, reason: "cannot write the witness key") }
        try Data((text(of: key.publicKey) + "\n").utf8).write(to: URL(fileURLWithPath: "\(stateDirectory)/\(publicFileName)"))
        return key
    }

    /// `ed25519:<base64>`, as checkpoints name their key.
    public static func text(of key: Curve25519.Signing.PublicKey) -> String {
        "ed25519:" + key.rawRepresentation.base64EncodedString()
    }
}

/// `audit verify --witness`: every witnessed head must still be in the log, signed by the agent's key.
public enum WitnessCheck {
    /// What is wrong, one line each; empty when every checkpoint holds. `records` is the log, oldest first.
    public static func problems(
        checkpoints: [AuditCheckpoint], unreadable: Int, records: [AuditRecord], trustedKey: String?
    ) -> [String] {
        var problems = unreadable > 0 ? ["\(unreadable) witness lines are not checkpoints"] : []
        let hashes = Dictionary(records.map { ($0.seq, $0.hash) }, uniquingKeysWith: { first, _ in first })
        for checkpoint in checkpoints {
            let at = "checkpoint of seq \(checkpoint.seq) at \(checkpoint.time)"
            guard checkpoint.isSigned else {
                problems.append("\(at): the signature does not verify")
                continue
            }
            if let trustedKey, checkpoint.key != trustedKey {
                problems.append("\(at): signed by \(checkpoint.key), not by the agent's key \(trustedKey)")
                continue
            }
            guard let hash = hashes[checkpoint.seq] else {
                problems.append("\(at): the log has no record \(checkpoint.seq) (cut or rewritten)")
                continue
            }
            if hash != checkpoint.hash {
                problems.append(
                    "\(at): the log's record \(checkpoint.seq) has hash \(hash.prefix(16))…, the witness saw "
                        + "\(checkpoint.hash.prefix(16))… (rewritten)")
            }
        }
        return problems
    }
}
