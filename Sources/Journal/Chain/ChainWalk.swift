/// The rules of an intact log, checked event by event along the global order — the same in every store.
///
/// Each event must follow its predecessor's position without a gap, carry the predecessor's hash as
/// `prevHash` (zeros for position 1), hash to its stored `hash`, have a `recordedAt` that does not go
/// back, and an `occurredAt` whose instant is the stored one.
public struct ChainWalk: Sendable {
    /// The last event walked past (0 before the first).
    public private(set) var position: Int64
    /// Its hash: the next event's `prevHash`.
    public private(set) var hash: [UInt8]
    private var recordedUs: Int64
    private var buffer: [UInt8] = []
    /// The last recording time formatted, and its instant: consecutive events mostly share one.
    private var recordedText: (microseconds: Int64, text: String) = (.min, "")

    /// A walk that starts after `position`, whose event had `hash` and was recorded at `recordedUs`.
    public init(after position: Int64 = 0, hash: [UInt8] = EventChain.genesisHash, recordedUs: Int64 = .min) {
        self.position = position
        self.hash = hash
        self.recordedUs = recordedUs
        buffer.reserveCapacity(2048)
    }

    /// Checks the next event and walks past it; returns why it breaks the chain, or nil.
    ///
    /// `recordedAt` and `sourceRecordedAt` come formatted as the canonical form writes them
    /// (``Timestamp/rfc3339``), `occurredUs` is the stored instant of `occurredAt`.
    public mutating func step(
        position: Int64, streamVersion: Int, envelope: EventEnvelope, occurredUs: Int64, recordedUs: Int64, recordedAt: String,
        sourceRecordedAt: String?, importRef: String?, payload: some Collection<UInt8>, prevHash: [UInt8], hash: [UInt8]
    ) -> String? {
        if position != self.position + 1 {
            return "position \(position) follows \(self.position): events \(self.position + 1)…\(position - 1) are missing"
        }
        if prevHash != self.hash {
            return "prevHash \(Hex.encode(prevHash.prefix(8)))… is not the hash of position \(self.position) (\(Hex.encode(self.hash.prefix(8)))…)"
        }
        if recordedUs < self.recordedUs {
            return "recordedAt goes back in time: \(Timestamp(microseconds: recordedUs)) after \(Timestamp(microseconds: self.recordedUs))"
        }
        guard let occurred = try? Timestamp(rfc3339: envelope.occurredAt), occurred.microseconds == occurredUs else {
            return "occurredAtUs \(occurredUs) does not match occurredAt \"\(envelope.occurredAt)\""
        }
        EventChain.writeCanonicalEnvelope(
            envelope, position: position, streamVersion: streamVersion, recordedAt: recordedAt,
            sourceRecordedAt: sourceRecordedAt, importRef: importRef, payload: payload, into: &buffer)
        let recomputed = EventChain.hash(prevHash: prevHash, envelope: buffer)
        if recomputed != hash {
            return "hash does not match the stored content: recomputed \(Hex.encode(recomputed.prefix(8)))…, stored \(Hex.encode(hash.prefix(8)))…"
        }
        self.position = position
        self.hash = hash
        self.recordedUs = recordedUs
        return nil
    }

    /// ``step(position:streamVersion:envelope:occurredUs:recordedUs:recordedAt:sourceRecordedAt:importRef:payload:prevHash:hash:)``
    /// for a recorded event.
    public mutating func step(_ event: RecordedEvent) -> String? {
        if recordedText.microseconds != event.recorded.microseconds {
            recordedText = (event.recorded.microseconds, event.recorded.rfc3339)
        }
        return step(
            position: event.position, streamVersion: event.streamVersion, envelope: event.envelope,
            occurredUs: event.occurred.microseconds, recordedUs: event.recorded.microseconds, recordedAt: recordedText.text,
            sourceRecordedAt: event.sourceRecordedAt?.rfc3339, importRef: event.importRef, payload: event.payload.utf8,
            prevHash: event.prevHash, hash: event.hash)
    }
}
