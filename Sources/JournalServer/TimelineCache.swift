import JournalProjections
import NIOCore
import Synchronization

/// The whole-timeline responses of customers read recently, kept in memory up to a size limit, so that
/// a repeated read costs no database read.
///
/// Kept true by the projection follower (a ``FoldObserver``): after each fold transaction commits it
/// drops the customers whose events it folded, before the position is published to `?waitFor=`
/// readers; when the timeline's tables changed in a way it cannot tell customer by customer (another
/// process folded, a rebuild switched generations), it drops everything. A response read from the
/// database is kept only if nothing was dropped while it was being read, so a read that raced a fold
/// never puts an old timeline back.
final class TimelineCache: Sendable {
    /// The most response bytes kept; 0 keeps nothing.
    let limitBytes: Int

    private struct State {
        /// Each response with the stamp it was kept under.
        var responses: [String: (response: ByteBuffer, stamp: UInt64)] = [:]
        /// Customers in the order their responses were kept, from `oldest` on; an entry whose stamp is
        /// no longer its customer's (dropped, or kept again since) is skipped.
        var order: [(customerId: String, stamp: UInt64)] = []
        var oldest = 0
        var nextStamp: UInt64 = 0
        var bytes = 0
        /// Raised by every drop; a read stores its response only if this did not change meanwhile.
        var epoch: UInt64 = 0
        var hits = 0
        var misses = 0

        func isCurrent(_ entry: (customerId: String, stamp: UInt64)) -> Bool { responses[entry.customerId]?.stamp == entry.stamp }

        /// Drops the skipped entries of `order` once they outnumber the responses kept, so that it
        /// stays in proportion to them however often customers are dropped and kept again.
        mutating func compactOrder() {
            let pending = order.count - oldest
            guard pending > 2 * responses.count + 64 || (oldest > 4_096 && oldest * 2 > order.count) else { return }
            order = order[oldest...].filter(isCurrent)
            oldest = 0
        }
    }
    private let state = Mutex(State())
    /// Where the timeline's tables stood when this process last folded into them.
    private let lastSeen = Mutex<ProjectionPosition?>(nil)

    init(limitBytes: Int) {
        self.limitBytes = limitBytes
    }

    /// The kept response for `customerId`, if any.
    func response(for customerId: String) -> ByteBuffer? {
        state.withLock { state in
            let response = state.responses[customerId]?.response
            if response == nil { state.misses += 1 } else { state.hits += 1 }
            return response
        }
    }

    /// A ticket to take before reading a response from the database, for ``store(_:for:ticket:)``.
    var ticket: UInt64 { state.withLock { $0.epoch } }

    /// Keeps `response` unless something was dropped since `ticket` was taken; makes room by dropping
    /// the responses kept longest ago when the limit is reached.
    func store(_ response: ByteBuffer, for customerId: String, ticket: UInt64) {
        let size = response.readableBytes
        guard size <= limitBytes / 4 else { return }
        state.withLock { state in
            guard state.epoch == ticket else { return }
            let stamp = state.nextStamp
            state.nextStamp += 1
            if let old = state.responses.updateValue((response, stamp), forKey: customerId) { state.bytes -= old.response.readableBytes }
            state.order.append((customerId, stamp))
            state.bytes += size
            while state.bytes > limitBytes, state.oldest < state.order.count {
                let victim = state.order[state.oldest]
                state.oldest += 1
                if state.isCurrent(victim), let old = state.responses.removeValue(forKey: victim.customerId) {
                    state.bytes -= old.response.readableBytes
                }
            }
            state.compactOrder()
        }
    }

    /// Drops the responses of `customerIds`.
    func drop(_ customerIds: some Sequence<String>) {
        state.withLock { state in
            state.epoch &+= 1
            for id in customerIds {
                if let old = state.responses.removeValue(forKey: id) { state.bytes -= old.response.readableBytes }
            }
        }
    }

    /// Drops every response.
    func dropAll() {
        state.withLock { state in
            state.epoch &+= 1
            state.responses = [:]
            state.order = []
            state.oldest = 0
            state.bytes = 0
        }
    }

    /// Entries of the keeping order not yet passed (kept in proportion to the responses).
    var orderLength: Int { state.withLock { $0.order.count - $0.oldest } }

    /// Responses kept, their bytes, and reads answered from memory and not.
    var statistics: (responses: Int, bytes: Int, hits: Int, misses: Int) {
        state.withLock { ($0.responses.count, $0.bytes, $0.hits, $0.misses) }
    }
}

extension TimelineCache: FoldObserver {
    func catchingUp(_ projection: String, at position: ProjectionPosition) {
        guard projection == JourneyTimeline.projectionName else { return }
        // Anything but where this process's last fold left them: they changed behind its back.
        lastSeen.withLock { last in
            if last != position { dropAll() }
            last = position
        }
    }

    func folded(_ projection: String, customers: Set<String>, reaching position: ProjectionPosition) {
        guard projection == JourneyTimeline.projectionName else { return }
        drop(customers)
        lastSeen.withLock { $0 = position }
    }
}
