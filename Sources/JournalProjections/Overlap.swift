import Foundation
import Synchronization

/// A loop whose two halves run on two threads: the next item is made while the one before is consumed.
enum Overlap {
    /// Consumes `first`, then each item `next` makes from the one before, in order, until `next`
    /// returns nil; `next` makes an item while `consume` works on the one before. An error of either
    /// ends the loop once both halves of the step have returned (the consumer's is thrown first).
    /// Returns the last item consumed.
    @discardableResult
    static func run<Item: Sendable>(
        first: Item?, next: @Sendable (Item) throws -> Item?, consume: @Sendable (Item) throws -> Void
    ) throws -> Item? {
        guard var current = first else { return nil }
        while true {
            let step = Mutex<(consumed: Result<Void, any Error>, next: Result<Item?, any Error>)>((.success(()), .success(nil)))
            let item = current
            Lanes.run(2) { lane in
                if lane == 0 {
                    let consumed = Result { try consume(item) }
                    step.withLock { $0.consumed = consumed }
                } else {
                    let made = Result { try next(item) }
                    step.withLock { $0.next = made }
                }
            }
            let (consumed, made) = step.withLock { ($0.consumed, $0.next) }
            try consumed.get()
            guard let following = try made.get() else { return item }
            current = following
        }
    }
}
