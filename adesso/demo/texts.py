"""What the demo's customers write and what the pastry shop's agents answer, in
Italian and English: a handful of topics a pastry shop really hears about."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    opening: str  # the customer's first message
    answer: str  # the agent's first answer
    follow_up: str  # the customer writes again, sometimes
    closing: str  # the agent's second answer
    subject: str = ""  # for email


IT: list[Topic] = [
    Topic(
        "Buongiorno, ho ordinato una torta di compleanno per sabato: potete confermarmi l'orario di ritiro?",
        "Buongiorno {name}, grazie per l'ordine! La torta è pronta sabato dalle 10: le mando ora la conferma.",
        "Perfetto, posso passare alle 11?",
        "Certo, alle 11 va benissimo: la troverà al banco con il suo nome. A sabato!",
        "Conferma ritiro torta",
    ),
    Topic(
        "Il panettone è arrivato con la scatola rotta e il dolce schiacciato. Come posso fare?",
        "Mi dispiace davvero {name}, è colpa nostra: le spediamo oggi un panettone nuovo e non deve "
        "restituire nulla. Arriva entro giovedì.",
        "Grazie, molto gentili. Mi mandate il numero di spedizione?",
        "Ecco il tracking: BRT 0584 2231 9. Mi scriva pure se giovedì non fosse arrivato.",
        "Panettone danneggiato",
    ),
    Topic(
        "Avete dolci senza glutine? Mia figlia è celiaca e vorrei una torta per la comunione.",
        "Ciao {name}, sì: prepariamo torte senza glutine in un laboratorio separato. Le mando il listino "
        "e, se vuole, la chiamo domani per scegliere insieme.",
        "Sì grazie, domani mattina va bene.",
        "Perfetto, la chiamo domani alle 10. Grazie a lei!",
        "Torta senza glutine",
    ),
    Topic(
        "Il codice sconto NATALE10 non funziona sul sito, mi dice codice non valido.",
        "Ha ragione {name}, scusi: il codice era scaduto per errore. L'ho riattivato ora e vale fino a domenica.",
        "Adesso funziona, grazie!",
        "Bene! Buone feste e grazie per la pazienza.",
        "Codice sconto",
    ),
    Topic(
        "Vorrei ordinare 40 cornetti per una colazione in ufficio venerdì mattina. Fate consegne?",
        "Buongiorno {name}, sì: consegniamo in città dalle 7:30. Le preparo un preventivo per 40 "
        "cornetti misti e glielo mando entro un'ora.",
        "Va bene, in via Roma 12, terzo piano.",
        "Segnato: venerdì alle 8 in via Roma 12. Le ho mandato il preventivo via email.",
        "Ordine per ufficio",
    ),
    Topic(
        "Ho pagato due volte lo stesso ordine, mi vedo due addebiti sulla carta.",
        "Mi scuso {name}, è un nostro errore: ho già disposto il rimborso del secondo addebito. Lo vedrà "
        "sulla carta entro 3 giorni lavorativi.",
        "Ok, se non lo vedo vi riscrivo.",
        "Certo, mi scriva pure qui: controllo io di persona.",
        "Doppio addebito",
    ),
    Topic(
        "A che ora chiudete la domenica? Vorrei passare a prendere le sfogliatelle.",
        "Ciao {name}, la domenica siamo aperti dalle 7:30 alle 13:30. Se vuole le teniamo da parte.",
        "Sì, me ne tenete sei?",
        "Fatto: sei sfogliatelle a nome suo, domenica al banco.",
        "Orari domenica",
    ),
    Topic(
        "L'ordine 5821 doveva arrivare ieri ma non è ancora arrivato.",
        "Mi dispiace {name}: ho sentito il corriere, il pacco è in consegna oggi entro le 18. La avviso "
        "io appena risulta consegnato.",
        "Ancora niente alle sei...",
        "Ha ragione, scusi: il corriere l'ha riprogrammato per domani mattina. Le rimborso la spedizione.",
        "Ordine in ritardo",
    ),
    Topic(
        "Questa è la seconda volta che la crema è acida. Non è accettabile.",
        "Ha ragione {name}, e mi scuso: non doveva succedere. Le rimborsiamo l'acquisto e ho chiesto al "
        "laboratorio di controllare il lotto oggi stesso.",
        "Grazie per la risposta rapida.",
        "Grazie a lei per avercelo detto: ci aiuta a migliorare.",
        "Reclamo crema",
    ),
    Topic(
        "Posso cambiare la scritta sulla torta? Ho sbagliato il nome.",
        "Certo {name}, nessun problema: mi scriva il nome giusto e lo cambio subito sull'ordine.",
        "Il nome è Beatrice, con la B maiuscola.",
        'Fatto: "Buon compleanno Beatrice". A presto!',
        "Modifica scritta torta",
    ),
]

EN: list[Topic] = [
    Topic(
        "Hello, do you ship panettone to London before Christmas?",
        "Hi {name}, yes: orders placed by 18 December arrive in London before Christmas. Shall I help you place one?",
        "Great, two classic ones please.",
        "Done: two classic panettoni, arriving by 22 December. I've emailed you the receipt.",
        "Shipping to London",
    ),
    Topic(
        "My order arrived but the cannoli were missing from the box.",
        "I'm so sorry {name}, that was our mistake. I'm refunding the cannoli now and adding a box to "
        "your next order for free.",
        "Thanks, that's kind.",
        "Thank you for letting us know, and sorry again.",
        "Missing cannoli",
    ),
    Topic(
        "Do you have vegan options for a birthday cake?",
        "Hi {name}, we do: a vegan chocolate cake and a lemon one. I'll send you the photos and prices right away.",
        "The chocolate one looks perfect. Saturday?",
        "Booked for Saturday from 10am. Thank you!",
        "Vegan cake",
    ),
    Topic(
        "I was charged but never got a confirmation email for my order.",
        "Sorry about that {name}: the order is confirmed, number 6034. I've sent the confirmation again just now.",
        "Got it, thanks.",
        "You're welcome, enjoy!",
        "No confirmation",
    ),
    Topic(
        "Can I pick up my order at the shop instead of delivery?",
        "Of course {name}: I've changed it to pick-up. It will be ready tomorrow from 9am.",
        "Perfect.",
        "See you tomorrow!",
        "Pick-up instead of delivery",
    ),
]

# Replies a coach would flag: a few agents on a bad day (the coach's statistics show them).
COACHED_IT = [
    "Questa è la nostra policy: i dolci non si possono cambiare dopo l'ordine.",
    "Non è colpa nostra, ma del corriere. Provi a chiamare loro.",
    "Trova la risposta qui: dolcevita.example/faq",
    "Ci sono molte altre persone prima di lei, abbia pazienza.",
]
COACHED_EN = [
    "That's our policy, I'm afraid there's nothing I can do.",
    "It's not our fault, it's the courier's. Please contact them.",
]

# Said when resolving a conversation that needed no answer.
NO_ANSWER_REASONS = [
    "Il cliente ha risolto da solo",
    "Messaggio promozionale, non serve risposta",
    "Doppione di un'altra conversazione",
]

FIRST_NAMES_IT = [
    "Alessandro",
    "Chiara",
    "Davide",
    "Elena",
    "Federico",
    "Francesca",
    "Giorgio",
    "Ilaria",
    "Luca",
    "Martina",
    "Matteo",
    "Paola",
    "Riccardo",
    "Roberta",
    "Simone",
    "Valentina",
    "Anna",
    "Stefano",
    "Giovanni",
    "Sara",
    "Andrea",
    "Laura",
    "Antonio",
    "Beatrice",
    "Carlo",
    "Silvia",
]
LAST_NAMES_IT = [
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "De Luca",
    "Costa",
    "Giordano",
    "Mancini",
    "Rizzo",
    "Lombardi",
    "Moretti",
]
FIRST_NAMES_EN = ["Emma", "Oliver", "Amelia", "Jack", "Sophie", "Harry", "Grace", "Thomas", "Chloe", "James"]
LAST_NAMES_EN = ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright", "Hughes", "Green"]

# What customers say when the survey after a resolution asks how it went: the reasons
# the insights page groups into topics and ties to the shop's processes.
SURVEY_GOOD_IT = [
    "Risposta velocissima e gentile, grazie!",
    "La torta era buonissima e consegnata puntuale.",
    "Giulia è stata davvero disponibile, mi ha risolto tutto in pochi minuti.",
    "Rimborso arrivato subito, servizio impeccabile.",
    "Cornetti freschissimi e consegna precisa in ufficio.",
    "Mi hanno richiamato quando promesso, molto professionali.",
    "Il panettone nuovo è arrivato in due giorni, bravi.",
    "Personale cortese e prodotti ottimi come sempre.",
]
SURVEY_BAD_IT = [
    "Ho dovuto aspettare troppo per una risposta.",
    "La consegna è arrivata in ritardo e nessuno mi ha avvisato.",
    "Mi hanno detto che era la loro policy, senza proporre niente.",
    "Il rimborso non è ancora arrivato dopo una settimana.",
    "Il sito continua a dare errore con il codice sconto.",
    "La torta non era come l'avevo ordinata.",
    "Ho dovuto spiegare tutto due volte a persone diverse.",
]
SURVEY_GOOD_EN = [
    "Quick and friendly answer, thank you!",
    "The cake was delicious and delivered on time.",
    "Very helpful staff, sorted in minutes.",
    "Refund came straight away, great service.",
]
SURVEY_BAD_EN = [
    "I had to wait far too long for an answer.",
    "The delivery was late and nobody told me.",
    "They just quoted their policy and offered nothing.",
    "The website still rejects the discount code.",
]
