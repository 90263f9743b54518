import Journal
import Testing

@Suite struct EventChainTests {
    @Test func canonicalEnvelopeIsSortedJSONWithThePayloadEmbedded() throws {
        let envelope = EventEnvelope(
            eventId: EventID("0190f7a2-5b1c-7c3e-9a41-3f2b8d9e0a11")!, customerId: "C-1", type: "note.added", schemaVersion: 1,
            occurredAt: "2026-03-02T08:15:00+01:00", occurred: try Timestamp(rfc3339: "2026-03-02T08:15:00+01:00"),
            assetId: "SN-1", actor: "a\"b")
        var buffer: [UInt8] = []
        EventChain.writeCanonicalEnvelope(
            envelope, position: 7, streamVersion: 2, recordedAt: "2026-03-02T07:20:00.000000Z", sourceRecordedAt: nil,
            importRef: nil, payload: Array(#"{"text":"hi"}"#.utf8), into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        #expect(text == #"{"actor":"a\"b","assetId":"SN-1","customerId":"C-1","eventId":"0190f7a2-5b1c-7c3e-9a41-3f2b8d9e0a11","occurredAt":"2026-03-02T08:15:00+01:00","payload":{"text":"hi"},"position":7,"recordedAt":"2026-03-02T07:20:00.000000Z","schemaVersion":1,"streamVersion":2,"type":"note.added"}"#)
        // The envelope is itself canonical JSON: parsing and re-writing it gives the same bytes.
        #expect(CanonicalJSON.bytes(try JSONParser.parse(buffer)) == buffer)
        // A known SHA-256 (computed independently with Python's hashlib over 32 zero bytes ‖ these bytes).
        let hash = EventChain.hash(prevHash: EventChain.genesisHash, envelope: buffer)
        #expect(Hex.encode(hash) == "54087e424c0637ca9fcc6d9ee0bc951c5bd207d713d77867cdeac593db939584")
    }
}
