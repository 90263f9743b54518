/// Seals personal values before an event is stored: the stored (and hashed) payload holds the
/// sealed text, so the log and every proof over it never need the plaintext, and destroying a
/// subject's key erases its values everywhere at once.
public protocol PersonalDataSealer: Sendable {
    /// The text stored in place of `plaintext`; the same inputs give the same text, so a re-sent
    /// event is recognised as the same.
    func seal(_ plaintext: String, scope: DataKeyScope) throws(JournalError) -> String

    /// Makes the keys of the scopes that have none, all at once: sealing a large input then does not
    /// wait for the key store once per new subject.
    func makeKeys(for scopes: Set<DataKeyScope>) throws(JournalError)
}

extension PersonalDataSealer {
    /// `payload` and `actor` with every personal value of `entry`'s schema sealed.
    func seal(
        payload: JSONValue, actor: String?, entry: SchemaRegistry.Entry, registry: SchemaRegistry, customerId: String,
        occurred: Timestamp
    ) throws(JournalError) -> (payload: JSONValue, actor: String?) {
        var sealed = payload
        do {
            for field in registry.personalFields(of: entry, payload: payload) {
                sealed = try field.map(sealed) { value in
                    try seal(value, scope: DataKeyScope(kind: field.kind, value: value, customerId: customerId, occurred: occurred))
                }
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw .storage("sealing a personal value: \(error)")
        }
        let sealedActor = try actor.map { (value) throws(JournalError) in
            try seal(value, scope: DataKeyScope(subject: .employee(value), kind: .employee, year: occurred.utcYear))
        }
        return (sealed, sealedActor)
    }
}

extension EventValidator {
    /// Makes, at once, the data keys sealing these batches will need (nothing without a sealer).
    public func makeKeys(for batches: [(customerId: String, events: [ProposedEvent])]) throws(JournalError) {
        guard let sealer else { return }
        try sealer.makeKeys(for: keyScopes(of: batches))
    }

    /// The data keys sealing these batches needs: per customer or employee with a personal value, its
    /// kind and the year its event occurred. Events of unknown types or with a bad `occurredAt` are
    /// skipped (validation refuses them).
    public func keyScopes(of batches: [(customerId: String, events: [ProposedEvent])]) -> Set<DataKeyScope> {
        guard sealer != nil else { return [] }
        var scopes: Set<DataKeyScope> = []
        for (customerId, events) in batches {
            for event in events {
                guard let occurred = try? Timestamp(rfc3339: event.occurredAt) else { continue }
                if let actor = event.actor { scopes.insert(DataKeyScope(subject: .employee(actor), kind: .employee, year: occurred.utcYear)) }
                guard let version = event.schemaVersion ?? registry.latestVersion(of: event.type),
                      let entry = registry.entry(type: event.type, version: version) else { continue }
                for field in registry.personalFields(of: entry, payload: event.payload) {
                    _ = field.map(event.payload) { value in
                        scopes.insert(DataKeyScope(kind: field.kind, value: value, customerId: customerId, occurred: occurred))
                        return value
                    }
                }
            }
        }
        return scopes
    }
}
