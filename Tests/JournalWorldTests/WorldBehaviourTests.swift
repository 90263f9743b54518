import Foundation
import Journal
import JournalWorld
import Testing

/// Statistical properties of a 1,000-customer, 3-year world: volumes, rates, revenue concentration and churn.
@Suite struct WorldBehaviourTests {
    @Test func volumesPerCustomerAndYearAreRealistic() throws {
        let sample = try WorldSample.shared.get()
        let perCustomerYear = Double(sample.events.count) / Double(sample.summary.customers) / 3
        #expect((8...25).contains(perCustomerYear), "\(perCustomerYear) events per customer and year")
        // Every event type occurs but case.opened, which only imports of ticket systems make.
        #expect(sample.summary.eventsByType.count == 29, "\(sample.summary.eventsByType.keys.sorted())")
    }

    @Test func lateRecordsCorrectionsAndVoidsStayWithinTheirBands() throws {
        let sample = try WorldSample.shared.get()
        let visits = sample.events.filter { $0.event.type == "technician.visit.completed" }
        let lateVisits = visits.count { days($0.occurred, $0.recordedAt) > 1.5 }
        let lateShare = Double(lateVisits) / Double(visits.count)
        #expect((0.025...0.07).contains(lateShare), "late technician reports: \(lateShare)")
        let invoices = sample.events.filter { $0.event.type == "invoice.issued" }
        let lateInvoices = Double(invoices.count { days($0.occurred, $0.recordedAt) > 1.5 }) / Double(invoices.count)
        #expect((0.01...0.06).contains(lateInvoices), "late invoices: \(lateInvoices)")
        let corrections = Double(sample.count("touchpoint.corrected")) / Double(sample.events.count)
        #expect((0.003...0.01).contains(corrections), "corrections: \(corrections)")
        let voids = Double(sample.count("touchpoint.voided")) / Double(sample.events.count)
        #expect((0.0005...0.003).contains(voids), "voids: \(voids)")
    }

    @Test func correctionsAndVoidsPointAtEarlierRecordsOfTheSameCustomer() throws {
        let sample = try WorldSample.shared.get()
        var recorded: [String: (customer: String, night: Timestamp)] = [:]
        for item in sample.events {
            let event = item.event
            for field in ["correctedEventId", "voidedEventId"] {
                guard let target = event.payload[field]?.stringValue else { continue }
                let earlier = try #require(recorded[target], "\(event.type) \(event.eventId) points at an unknown event")
                #expect(earlier.customer == event.customerId && earlier.night < item.recordedAt)
            }
            recorded[event.eventId] = (event.customerId!, item.recordedAt)
        }
    }

    @Test func aFifthOfTheCustomersBringMostOfTheServiceRevenue() throws {
        let sample = try WorldSample.shared.get()
        var revenue: [String: Double] = [:]
        for item in sample.events where item.event.type == "invoice.issued" {
            revenue[item.event.customerId!, default: 0] += item.event.payload["amount"]?.number ?? 0
        }
        let sorted = revenue.values.sorted(by: >)
        let top = sorted.prefix(sorted.count / 5).reduce(0, +) / sorted.reduce(0, +)
        #expect((0.65...0.88).contains(top), "top 20 % share of revenue: \(top)")
    }

    @Test func annualChurnIsBetweenFourAndTwelvePercent() throws {
        let sample = try WorldSample.shared.get()
        let perCustomer = sample.byCustomer
        let start = sample.summary.firstRecorded!
        for year in 0..<3 {
            let from = start.microseconds + Int64(year) * 365 * 86_400_000_000
            let to = from + 365 * 86_400_000_000
            var active = 0
            var lost = 0
            for events in perCustomer.values {
                let losses = events.filter { $0.event.type == "customer.lost" }.map(\.occurred.microseconds)
                guard events[0].occurred.microseconds < to, !losses.contains(where: { $0 < from }) else { continue }
                active += 1
                if losses.contains(where: { $0 >= from && $0 < to }) { lost += 1 }
            }
            let churn = Double(lost) / Double(active)
            #expect((0.035...0.12).contains(churn), "year \(year + 1): \(lost) of \(active) lost")
        }
        #expect(sample.summary.reactivations > 0)
    }

    /// Warning signals in a window of 180 days: broken promises, declined quotes, complaints, detractor answers, parts orders.
    struct Signals {
        var warnings = 0
        var partsOrders = 0

        init(_ events: [WorldSample.Event], from: Timestamp, to: Timestamp) {
            for item in events where item.occurred >= from && item.occurred < to {
                let payload = item.event.payload
                switch item.event.type {
                case "quote.declined", "complaint.filed", "contract.cancelled":
                    warnings += 1
                case "technician.visit.completed":
                    if payload["fixed"] == false { warnings += 1 }
                    if let promised = payload["promisedArrival"]?.stringValue, let actual = payload["actualArrival"]?.stringValue,
                        let p = try? Timestamp(rfc3339: promised), let a = try? Timestamp(rfc3339: actual), a > p
                    {
                        warnings += 1
                    }
                case "part.delivered":
                    if payload["actualDate"]!.stringValue! > payload["promisedDate"]!.stringValue! { warnings += 1 }
                case "survey.answered":
                    if let recommend = payload["recommend"]?.number, recommend <= 6 { warnings += 1 }
                case "part.ordered":
                    partsOrders += 1
                default:
                    break
                }
            }
        }
    }

    @Test func lostCustomersShowedMoreWarningSignalsBeforeTheLossThanRetainedCustomers() throws {
        // Given the 180 days before each loss for lost customers, and the last 180 days for retained ones
        let sample = try WorldSample.shared.get()
        let window = Int64(180) * 86_400_000_000
        var lost: [Signals] = []
        var retained: [Signals] = []
        var unforeseen: [Signals] = []
        for events in sample.byCustomer.values {
            guard let loss = events.first(where: { $0.event.type == "customer.lost" }) else {
                guard days(events[0].occurred, sample.end) > 400 else { continue }
                retained.append(Signals(events, from: Timestamp(microseconds: sample.end.microseconds - window), to: sample.end))
                continue
            }
            guard days(events[0].occurred, loss.occurred) > 400 else { continue }
            let signals = Signals(events, from: Timestamp(microseconds: loss.occurred.microseconds - window), to: loss.occurred)
            let reason = loss.event.payload["reason"]?.stringValue
            if reason == "insolvency" || reason == "machineRetired" { unforeseen.append(signals) } else { lost.append(signals) }
        }
        func mean(_ list: [Signals], _ value: (Signals) -> Int) -> Double {
            Double(list.reduce(0) { $0 + value($1) }) / Double(max(1, list.count))
        }
        // Then customers lost to dissatisfaction or competitors showed clearly more warnings and fewer orders,
        #expect(lost.count > 30 && retained.count > 500)
        let lostWarnings = mean(lost, \.warnings), retainedWarnings = mean(retained, \.warnings)
        #expect(lostWarnings > 1.5 * retainedWarnings, "warnings: lost \(lostWarnings), retained \(retainedWarnings)")
        let lostOrders = mean(lost, \.partsOrders), retainedOrders = mean(retained, \.partsOrders)
        #expect(lostOrders < 0.7 * retainedOrders, "parts orders: lost \(lostOrders), retained \(retainedOrders)")
        // but not every lost customer did: the signal is noisy.
        #expect(lost.contains { $0.warnings == 0 })
        #expect(retained.contains { $0.warnings >= 2 })
    }
}
