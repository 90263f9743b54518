import Journal

extension Builder {
    /// An A customer: late, incomplete delivery; a breakdown where the technician came six hours late
    /// and the report was typed in a week later; an express part delivered late; a complaint well recovered.
    mutating func hoffmann() {
        let c = "C-1001", asset = "SN-CNC5000-0417", site = "S-1001-1"
        add(c, "customer.registered", "2023-11-06T09:00:00+01:00", actor: "crm/svogel", source: "crm",
            ["name": "Hoffmann Präzisionsteile GmbH", "country": "DE", "industry": "Automotive supplier",
             "keyAccountManager": "S. Vogel", "customerSince": "2011-05-01",
             "sites": [["siteId": .string(site), "city": "Pforzheim", "country": "DE"]],
             "contacts": [["name": "Martina Huber", "role": "plant manager", "email": "m.huber@hoffmann-praezision.example",
                           "phone": "+49 7231 555 0142"]]])
        add(c, "contract.signed", "2023-12-01T10:00:00+01:00", actor: "sales/svogel", source: "crm",
            ["contractId": "SC-1001-A", "level": "premium", "startDate": "2024-01-01", "endDate": "2026-12-31",
             "annualValue": 18500, "currency": "EUR", "responseTimeHours": 8])
        add(c, "delivery.completed", "2024-03-11T07:30:00+01:00", assetId: asset, siteId: site, actor: "logistics/kraus", source: "erp",
            ["orderId": "SO-2024-0113", "promisedDate": "2024-03-04", "actualDate": "2024-03-11", "complete": false,
             "damaged": false, "missingItems": ["Safety fence, left panel"], "carrier": "Spedition Kraus"])
        add(c, "installation.completed", "2024-03-20T16:00:00+01:00", assetId: asset, siteId: site, actor: "field/mweber", source: "field-app",
            ["scheduledDate": "2024-03-18", "completedDate": "2024-03-20", "acceptancePassedFirstTime": true,
             "acceptanceAttempts": 1, "engineer": "M. Weber"])
        add(c, "training.completed", "2024-04-10T15:00:00+02:00", assetId: asset, siteId: site, actor: "academy/lbauer", source: "lms",
            ["course": "Operator training CNC-5000", "participants": 6, "days": 2, "rating": 4])
        add(c, "invoice.issued", "2024-04-12T09:00:00+02:00", actor: "erp", source: "erp",
            ["invoiceId": "INV-24-03310", "amount": 4200, "currency": "EUR", "category": "training"])
        // The breakdown case.
        let k = "CASE-1001-01"
        let call = add(c, "hotline.call.received", "2024-06-03T09:12:00+02:00", caseId: k, assetId: asset, siteId: site,
            actor: "hotline/anna", source: "hotline",
            ["queueWaitSeconds": 95, "abandoned": false, "solvedOnCall": false, "machineDown": true,
             "topic": "Spindle drive fault E-417", "agent": "hotline/anna", "callbackPromisedBy": "2024-06-03T10:00:00+02:00"])
        add(c, "technician.visit.scheduled", "2024-06-03T09:40:00+02:00", caseId: k, assetId: asset, siteId: site,
            actor: "dispatch/tkoch", source: "dispatch", causation: call,
            ["visitNumber": 1, "promisedArrival": "2024-06-04T08:00:00+02:00", "reason": "breakdown", "technician": "J. Novak"])
        add(c, "part.requested", "2024-06-04T15:30:00+02:00", caseId: k, assetId: asset, siteId: site, actor: "field/jnovak", source: "field-app",
            ["requestId": "PR-88121", "lines": [["partNumber": "7730-114", "quantity": 1, "description": "Encoder"]],
             "machineDown": true, "urgency": "express"])
        add(c, "quote.sent", "2024-06-04T17:05:00+02:00", caseId: k, actor: "parts/ehaas", source: "erp",
            ["quoteId": "Q-2024-0931", "subject": "parts", "amount": 1280.5, "currency": "EUR",
             "requestedAt": "2024-06-04T15:30:00+02:00", "validUntil": "2024-07-04"])
        add(c, "quote.accepted", "2024-06-04T17:40:00+02:00", caseId: k, actor: "portal", source: "customer-portal",
            ["quoteId": "Q-2024-0931", "amount": 1280.5, "currency": "EUR"])
        add(c, "part.ordered", "2024-06-04T17:45:00+02:00", caseId: k, assetId: asset, actor: "parts/ehaas", source: "erp",
            ["orderId": "PO-55102", "quoteId": "Q-2024-0931", "lines": [["partNumber": "7730-114", "quantity": 1]],
             "express": true, "promisedDeliveryDate": "2024-06-05", "amount": 1280.5, "currency": "EUR"])
        add(c, "part.delivered", "2024-06-07T10:20:00+02:00", caseId: k, assetId: asset, siteId: site, actor: "logistics", source: "erp",
            ["orderId": "PO-55102", "promisedDate": "2024-06-05", "actualDate": "2024-06-07", "express": true, "complete": true])
        add(c, "technician.visit.completed", "2024-06-07T16:30:00+02:00", caseId: k, assetId: asset, siteId: site,
            actor: "field/jnovak", source: "field-app",
            ["visitNumber": 2, "promisedArrival": "2024-06-07T13:00:00+02:00", "actualArrival": "2024-06-07T12:50:00+02:00",
             "fixed": true, "revisitRequired": false, "technician": "J. Novak", "workHours": 3, "partsUsed": ["7730-114"],
             "report": "Encoder replaced, axis recalibrated, test run OK."])
        add(c, "case.closed", "2024-06-07T17:00:00+02:00", caseId: k, actor: "service/kbrandt", source: "crm",
            ["resolution": "resolved", "note": "Encoder replaced; the machine runs again."])
        // The first visit's report, typed in a week after the visit: it lands before visit 2 on the timeline.
        add(c, "technician.visit.completed", "2024-06-04T14:10:00+02:00", delayMinutes: 7 * 24 * 60, caseId: k,
            assetId: asset, siteId: site, actor: "field/jnovak", source: "field-app",
            ["visitNumber": 1, "promisedArrival": "2024-06-04T08:00:00+02:00", "actualArrival": "2024-06-04T14:10:00+02:00",
             "fixed": false, "revisitRequired": true, "technician": "J. Novak", "workHours": 3.5,
             "report": "Drive belt replaced; encoder fault remains, part requested."])
        add(c, "complaint.filed", "2024-06-05T08:30:00+02:00", caseId: k, assetId: asset, actor: "hotline/anna", source: "hotline",
            ["complaintId": "CMP-311", "category": "response-time", "severity": "high",
             "description": "Technician came six hours late while our line stood still; nobody called back."])
        add(c, "complaint.acknowledged", "2024-06-05T11:00:00+02:00", caseId: k, actor: "service/kbrandt", source: "crm",
            ["complaintId": "CMP-311", "acknowledgedBy": "K. Brandt", "promisedResolutionDate": "2024-06-14"])
        add(c, "complaint.resolved", "2024-06-12T10:00:00+02:00", caseId: k, actor: "service/kbrandt", source: "crm",
            ["complaintId": "CMP-311", "resolution": "Apology, goodwill credit on the repair invoice, dispatch rule for premium contracts changed.",
             "customerSatisfied": true, "goodwillAmount": 500, "currency": "EUR"])
        add(c, "invoice.issued", "2024-06-14T09:00:00+02:00", caseId: k, actor: "erp", source: "erp",
            ["invoiceId": "INV-24-10442", "amount": 2920.5, "currency": "EUR", "category": "repair", "orderId": "PO-55102"])
        add(c, "survey.answered", "2024-06-20T18:00:00+02:00", caseId: k, actor: "survey", source: "survey-tool",
            ["surveyId": "S-2024-Q2", "csi": 3, "recommend": 7, "comment": "Slow start, but the complaint was handled well."])
        add(c, "maintenance.performed", "2024-09-02T15:00:00+02:00", assetId: asset, siteId: site, actor: "field/lschmid", source: "field-app",
            ["kind": "inspection", "scheduledDate": "2024-09-02", "performedDate": "2024-09-02", "defectsFound": 1,
             "findings": "Hydraulic hose shows wear; replace at next maintenance.", "technician": "L. Schmid"])
        add(c, "invoice.issued", "2024-09-05T09:00:00+02:00", actor: "erp", source: "erp",
            ["invoiceId": "INV-24-14870", "amount": 1850, "currency": "EUR", "category": "maintenance"])
    }

    /// A B customer drifting away: acceptance failed first time, quotes declined for a broker,
    /// a survey detractor, the contract cancelled, and finally lost.
    mutating func nordwerk() {
        let c = "C-1002", asset = "SN-PRESS800-0112"
        add(c, "customer.registered", "2022-02-14T10:00:00+01:00", actor: "crm/pmaier", source: "crm",
            ["name": "Nordwerk Anlagenbau AG", "country": "AT", "industry": "Plant engineering", "keyAccountManager": "P. Maier"])
        add(c, "delivery.completed", "2022-04-04T08:00:00+02:00", assetId: asset, actor: "logistics", source: "erp",
            ["orderId": "SO-2022-0440", "promisedDate": "2022-04-04", "actualDate": "2022-04-04", "complete": true, "damaged": false])
        add(c, "installation.completed", "2022-04-14T17:00:00+02:00", assetId: asset, actor: "field/mweber", source: "field-app",
            ["scheduledDate": "2022-04-12", "completedDate": "2022-04-14", "acceptancePassedFirstTime": false,
             "acceptanceAttempts": 2, "notes": "Hydraulic pressure out of tolerance at first acceptance."])
        add(c, "contract.signed", "2022-05-01T09:00:00+02:00", actor: "sales/pmaier", source: "crm",
            ["contractId": "SC-1002-B", "level": "standard", "startDate": "2022-05-01", "endDate": "2025-04-30",
             "annualValue": 9800, "currency": "EUR", "responseTimeHours": 24])
        add(c, "hotline.call.received", "2023-02-08T13:20:00+01:00", caseId: "CASE-1002-01", assetId: asset,
            actor: "hotline/ben", source: "hotline",
            ["queueWaitSeconds": 40, "abandoned": false, "solvedOnCall": true, "machineDown": false,
             "topic": "Parameter reset after power failure"])
        add(c, "maintenance.performed", "2023-05-10T14:00:00+02:00", assetId: asset, actor: "field/lschmid", source: "field-app",
            ["kind": "maintenance", "scheduledDate": "2023-05-03", "performedDate": "2023-05-10", "defectsFound": 0])
        add(c, "invoice.issued", "2023-05-15T09:00:00+02:00", actor: "erp", source: "erp",
            ["invoiceId": "INV-23-08812", "amount": 2400, "currency": "EUR", "category": "maintenance"])
        add(c, "quote.sent", "2024-02-20T11:00:00+01:00", actor: "parts/ehaas", source: "erp",
            ["quoteId": "Q-2024-0188", "subject": "parts", "amount": 3380, "currency": "EUR", "requestedAt": "2024-02-16T09:00:00+01:00"])
        add(c, "quote.declined", "2024-03-04T10:00:00+01:00", actor: "portal", source: "customer-portal",
            ["quoteId": "Q-2024-0188", "reason": "boughtElsewhere", "competitor": "parts broker"])
        add(c, "quote.sent", "2024-07-09T11:00:00+02:00", actor: "parts/ehaas", source: "erp",
            ["quoteId": "Q-2024-1207", "subject": "parts", "amount": 2210, "currency": "EUR"])
        add(c, "quote.declined", "2024-07-22T10:00:00+02:00", actor: "portal", source: "customer-portal",
            ["quoteId": "Q-2024-1207", "reason": "price"])
        add(c, "survey.answered", "2024-09-30T12:00:00+02:00", actor: "survey", source: "survey-tool",
            ["surveyId": "S-2024-Q3", "csi": 2, "recommend": 3, "comment": "Spare parts are too expensive and take too long."])
        add(c, "note.added", "2024-10-15T16:00:00+02:00", actor: "kam/pmaier", source: "crm",
            ["text": "New plant manager prefers an independent service provider. Offer a visit.", "visibility": "internal", "author": "P. Maier"])
        add(c, "contract.cancelled", "2025-01-31T09:00:00+01:00", actor: "sales/pmaier", source: "crm",
            ["contractId": "SC-1002-B", "effectiveDate": "2025-04-30", "cancelledBy": "customer", "reason": "switchedProvider"])
        add(c, "customer.lost", "2025-06-30T09:00:00+02:00", actor: "kam/pmaier", source: "crm",
            ["reason": "competitor", "competitor": "Independent service provider", "notes": "No orders since the contract ended."])
    }

    /// A customer with data-entry mistakes: a visit's arrival corrected, a duplicated note voided,
    /// and a complaint that had to be escalated.
    mutating func bianchi() {
        let c = "C-1003", asset = "SN-LATHE300-0930"
        add(c, "customer.registered", "2023-01-09T09:00:00+01:00", actor: "crm/gferri", source: "crm",
            ["name": "Bianchi Meccanica S.r.l.", "country": "IT", "industry": "Contract machining"])
        add(c, "delivery.completed", "2023-02-20T09:00:00+01:00", assetId: asset, actor: "logistics", source: "erp",
            ["promisedDate": "2023-02-17", "actualDate": "2023-02-20", "complete": true, "damaged": true, "notes": "Control panel cover dented."])
        add(c, "installation.completed", "2023-02-24T18:00:00+01:00", assetId: asset, actor: "field/mweber", source: "field-app",
            ["scheduledDate": "2023-02-23", "completedDate": "2023-02-24", "acceptancePassedFirstTime": true])
        let k = "CASE-1003-01"
        add(c, "hotline.call.received", "2024-11-04T07:55:00+01:00", caseId: k, assetId: asset, actor: "hotline/ben", source: "hotline",
            ["queueWaitSeconds": 610, "abandoned": false, "solvedOnCall": false, "machineDown": true, "topic": "Coolant pump failure"])
        add(c, "technician.visit.scheduled", "2024-11-04T08:30:00+01:00", caseId: k, assetId: asset, actor: "dispatch/tkoch", source: "dispatch",
            ["visitNumber": 1, "promisedArrival": "2024-11-05T09:00:00+01:00", "reason": "breakdown", "technician": "R. Conti"])
        let visit = add(c, "technician.visit.completed", "2024-11-05T12:00:00+01:00", caseId: k, assetId: asset,
            actor: "field/rconti", source: "field-app",
            ["visitNumber": 1, "promisedArrival": "2024-11-05T09:00:00+01:00", "actualArrival": "2024-11-05T11:40:00+01:00",
             "fixed": true, "technician": "R. Conti", "workHours": 2])
        add(c, "touchpoint.corrected", "2024-11-06T08:00:00+01:00", caseId: k, actor: "dispatch/tkoch", source: "dispatch",
            ["correctedEventId": .string(visit.rawValue), "corrections": ["actualArrival": "2024-11-05T09:20:00+01:00"],
             "reason": "Technician entered the time he left the previous site."])
        add(c, "complaint.filed", "2024-11-06T10:00:00+01:00", caseId: k, actor: "hotline/ben", source: "hotline",
            ["complaintId": "CMP-402", "category": "communication", "severity": "medium",
             "description": "Ten minutes in the hotline queue during a machine stop."])
        add(c, "complaint.escalated", "2024-11-20T10:00:00+01:00", caseId: k, actor: "service/kbrandt", source: "crm",
            ["complaintId": "CMP-402", "escalatedTo": "Head of Service", "reason": "No answer within two weeks"])
        let note = add(c, "note.added", "2024-11-21T09:00:00+01:00", actor: "kam/gferri", source: "crm",
            ["text": "Call the customer about the hotline staffing plan.", "author": "G. Ferri"])
        add(c, "note.added", "2024-11-21T09:01:00+01:00", actor: "kam/gferri", source: "crm",
            ["text": "Call the customer about the hotline staffing plan.", "author": "G. Ferri"])
        add(c, "touchpoint.voided", "2024-11-21T09:30:00+01:00", actor: "kam/gferri", source: "crm",
            ["voidedEventId": .string(note.rawValue), "reason": "Entered twice by mistake."])
        add(c, "complaint.resolved", "2024-11-28T15:00:00+01:00", caseId: k, actor: "service/kbrandt", source: "crm",
            ["complaintId": "CMP-402", "resolution": "Second hotline shift for Italian customers from January.", "customerSatisfied": false])
        add(c, "invoice.issued", "2024-11-29T09:00:00+01:00", caseId: k, actor: "erp", source: "erp",
            ["invoiceId": "INV-24-16003", "amount": 980, "currency": "EUR", "category": "repair"])
    }

    /// A C customer that was lost and came back with a retrofit and a renewed contract.
    mutating func dupont() {
        let c = "C-1004", asset = "SN-PACK120-0051"
        add(c, "customer.registered", "2019-03-01T09:00:00+01:00", actor: "crm/aleroy", source: "crm",
            ["name": "Dupont Emballage SA", "country": "FR", "industry": "Packaging"])
        add(c, "contract.signed", "2019-04-01T09:00:00+02:00", actor: "sales/aleroy", source: "crm",
            ["contractId": "SC-1004-C", "level": "basic", "startDate": "2019-04-01", "endDate": "2024-03-31",
             "annualValue": 3200, "currency": "EUR"])
        add(c, "customer.lost", "2022-09-30T09:00:00+02:00", actor: "kam/aleroy", source: "crm",
            ["reason": "price", "notes": "Buys parts from a broker since 2021."])
        add(c, "quote.sent", "2024-10-01T10:00:00+02:00", assetId: asset, actor: "sales/aleroy", source: "crm",
            ["quoteId": "Q-2024-1402", "subject": "retrofit", "amount": 46000, "currency": "EUR", "validUntil": "2024-12-31"])
        add(c, "quote.accepted", "2024-11-15T10:00:00+01:00", actor: "sales/aleroy", source: "crm",
            ["quoteId": "Q-2024-1402", "amount": 44500, "currency": "EUR"])
        add(c, "customer.reactivated", "2024-11-15T10:05:00+01:00", actor: "kam/aleroy", source: "crm",
            ["reason": "Retrofit offer accepted", "campaign": "C-reactivation 2024"])
        add(c, "contract.renewed", "2024-11-20T09:00:00+01:00", actor: "sales/aleroy", source: "crm",
            ["contractId": "SC-1004-C", "newEndDate": "2027-11-30", "annualValue": 4100, "currency": "EUR"])
        add(c, "invoice.issued", "2025-02-03T09:00:00+01:00", actor: "erp", source: "erp",
            ["invoiceId": "INV-25-01120", "amount": 44500, "currency": "EUR", "category": "retrofit"])
    }
}
