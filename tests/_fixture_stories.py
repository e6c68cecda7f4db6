"""Invented news stories for the fixture site (tests/newssite.py): plain data, no behaviour.

Every name, place, company and event here is made up. Paragraphs are plain text (no markup);
the site escapes them. Some use curly quotes, dashes, accents and "&" on purpose, so
encoding and escaping mistakes in the crawler show up as text differences.
This module touches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Story:
    section: str
    title: str
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    caption: str
    paragraphs: tuple[str, ...]


WORLD = (
    Story(
        section="world",
        title="Floodwaters force thousands from their homes as the Varn bursts its banks",
        authors=("Ingrid Solberg",),
        tags=("Varnholm", "Flooding", "Weather"),
        caption="Residents wade along Quay Street in Varnholm on Monday morning.",
        paragraphs=(
            "More than 6,000 people were evacuated from low-lying districts of Varnholm on Monday after the "
            "river Varn rose almost three metres overnight and spilled over flood walls that had been raised "
            "only four years ago. Emergency crews used inflatable boats to reach families trapped on upper "
            "floors along the old harbour front.",
            "The regional governor, Aldo Brenner, said the water had risen faster than any forecast had "
            "predicted. “We planned for a bad week, not for a single night like this,” he told reporters at a "
            "school gymnasium that has been turned into a shelter for about 800 people.",
            "Meteorologists said a slow-moving band of rain had dropped the equivalent of six weeks of rainfall "
            "on the hills north of the city in less than two days. Snowmelt from an unusually mild February "
            "had already left the upper reaches of the river close to capacity.",
            "Rail services between Varnholm and the coast were suspended after a section of embankment near "
            "Ostby slipped into a field, and the main road bridge was closed to all traffic while engineers "
            "inspected its piers. Officials said the closures could last until the end of the week.",
            "No deaths had been reported by Monday evening, though two people were taken to hospital with "
            "hypothermia after spending several hours on the roof of a parked van. Police urged residents not "
            "to return to their homes to collect belongings until the water had receded.",
            "Local businesses along the river began counting the cost as the first shops reopened on higher "
            "ground. Marta Lind, who runs a bookshop two streets from the quay, said the water had reached the "
            "second shelf. “Everything below knee height is gone,” she said. “We will start again, but not this month.”",
        ),
    ),
    Story(
        section="world",
        title="Coalition talks collapse in Tarsen after a week of late-night bargaining",
        authors=("Pieter Vandermolen", "Selin Arcan"),
        tags=("Tarsen", "Elections", "Politics"),
        caption="Negotiators leave the parliament building in Aldmere after the final session.",
        paragraphs=(
            "Talks to form a new government in Tarsen broke down on Thursday after the two largest parties "
            "failed to agree on a budget framework, raising the prospect of a second general election in less "
            "than a year. The centre-right Civic Union walked out of the final session shortly before midnight.",
            "Union leader Hanne Kessel said her party could not accept proposals to raise the top rate of "
            "income tax while public spending continued to grow. “We came to compromise, not to surrender,” "
            "she said outside the parliament building in Aldmere, the capital.",
            "The Labour Alliance, which won the most seats in October but fell well short of a majority, "
            "accused its rivals of staging the walkout to avoid difficult choices. Its negotiator, Rui Falcão, "
            "said the two sides had been within a few hundred million crowns of an agreement on Wednesday.",
            "President Elsa Morgenthal is expected to meet party leaders on Monday to decide whether another "
            "candidate can be asked to try to form a government. Constitutional experts said she could also "
            "dissolve parliament, which would trigger an election within sixty days.",
            "The deadlock has already delayed the annual budget, leaving ministries operating on monthly "
            "allowances based on last year’s spending. Several mayors have warned that road repairs and school "
            "building projects will stall if a new budget is not passed before the summer.",
            "Opinion polls published this week suggest that a fresh vote would produce a parliament almost "
            "identical to the current one, with neither bloc close to the 76 seats needed to govern alone. "
            "Smaller parties have so far refused to join either side.",
            "Financial markets reacted calmly to the news. The yield on Tarsen’s ten-year government bond rose "
            "slightly on Friday morning, but analysts said investors had already expected the talks to drag "
            "on well into the spring, and that a second election would be unlikely to change the arithmetic.",
        ),
    ),
    Story(
        section="world",
        title="Ferry link to the Isles of Mora restored after a two-year gap",
        authors=("Callum Rothery",),
        tags=("Mora", "Transport", "Islands"),
        caption="The new ferry Saltire Dawn arrives at Kirkvoe harbour on its first crossing.",
        paragraphs=(
            "A passenger and car ferry sailed from Saltcombe to the Isles of Mora on Tuesday for the first time "
            "in more than two years, ending a gap in service that islanders say cost them jobs, hospital "
            "appointments and several young families who moved to the mainland.",
            "The vessel, the Saltire Dawn, was built at a yard in the north and delivered eleven months late "
            "after problems with its hybrid engines. It can carry 180 passengers and 40 cars, roughly double "
            "the capacity of the old ferry that was withdrawn after failing a safety inspection.",
            "Several hundred people gathered on the pier at Kirkvoe to watch the ship arrive. A piper played as "
            "it docked, and children from the island’s only primary school held up a banner that read "
            "“Welcome home” in blue and yellow paint.",
            "During the gap, the islands were served by a small chartered boat that could not take vehicles "
            "and was often cancelled in rough weather. Fishermen said they had been forced to send catches by "
            "a longer route through another port, adding hours to every delivery.",
            "The regional transport authority said the new timetable would offer three return crossings a day "
            "in summer and two in winter. Fares will be frozen for the first year, and island residents will "
            "continue to receive a 50 per cent discount.",
            "Community council chair Fiona MacAllister said the return of the ferry was welcome but overdue. "
            "“People here have been patient for a very long time,” she said. “We need a second ship as a backup, "
            "so that one breakdown never again cuts us off like this.”",
        ),
    ),
    Story(
        section="world",
        title="Restorers uncover a painted ceiling hidden for a century in Castramond town hall",
        authors=("Inès Moreau", "Tobias Hallgren"),
        tags=("Castramond", "Heritage", "Art"),
        caption="A conservator works on the newly revealed ceiling of the council chamber.",
        paragraphs=(
            "Workers renovating the town hall in Castramond have uncovered a painted ceiling that had been "
            "hidden behind a false plaster roof since the 1920s, revealing a detailed scene of the town’s "
            "medieval market that historians had known only from a single faded sketch.",
            "The painting, which covers about 90 square metres above the council chamber, was found when "
            "electricians cut an inspection hatch to replace old wiring. “I shone my torch up and saw a face "
            "looking back at me,” said electrician Paulo Serrat. “I called the foreman straight away.”",
            "Art historians believe the ceiling was painted around 1780 by a workshop from the coast, and "
            "covered over during a modernisation that also removed the chamber’s wooden panelling. Records "
            "from that period describe the decoration as “old-fashioned and gloomy” and record that it cost very little to hide.",
            "Conservators say the paint layer is in surprisingly good condition because the false ceiling "
            "protected it from smoke, light and damp. Some sections near the windows have flaked, and a long "
            "crack runs across the corner where the building settled after an earthquake in 1911.",
            "The council has agreed to pause the renovation while the ceiling is documented and stabilised, "
            "which could add six months and about 400,000 euros to the project. Mayor Lucia Ferrand said the "
            "delay was “a price worth paying for something that belongs to everyone”.",
            "The town plans to open the chamber to visitors on weekends once the work is complete, and a local "
            "school has already asked whether pupils can watch the conservators at work. A digital scan of "
            "the painting will be published online later this year.",
        ),
    ),
    Story(
        section="world",
        title="Neighbours sign a water-sharing accord for the Orla basin",
        authors=("Selin Arcan",),
        tags=("Orla", "Water", "Diplomacy"),
        caption="Delegates shake hands after the signing ceremony in Vessa.",
        paragraphs=(
            "Three countries that share the Orla river signed an agreement on Saturday setting out how its water "
            "will be divided during droughts, after almost a decade of negotiations that at times threatened "
            "to sour relations between the upstream and downstream states.",
            "The accord, signed in the border town of Vessa, creates a joint commission with the power to "
            "order reductions in irrigation when the river’s flow falls below agreed levels. Each country will "
            "install monitoring stations that publish readings every hour.",
            "Farmers in the lower basin have long complained that dams built upstream left their fields dry in "
            "late summer. In 2023, hundreds of orchards along the delta were abandoned after the river fell to "
            "its lowest level in living memory.",
            "Negotiators said the breakthrough came when the upstream government agreed to release water from "
            "its largest reservoir during dry spells in exchange for a share of the electricity generated "
            "downstream. The details of that exchange will be reviewed every five years.",
            "Environmental groups welcomed the deal but warned that it did not set aside enough water for the "
            "wetlands at the river mouth, which are home to migrating birds. “The river is not only a pipe "
            "for farms and turbines,” said Dorota Wnuk of the Orla Delta Trust.",
            "The agreement must still be ratified by the three parliaments. Officials said they hoped the "
            "commission would hold its first meeting before the summer irrigation season begins in June, probably in the delta city of Marisca, where its small permanent staff will be based.",
        ),
    ),
)

BUSINESS = (
    Story(
        section="business",
        title="Calder Freight to cut 400 jobs as parcel volumes slump",
        authors=("Martin Okafor",),
        tags=("Calder Freight", "Jobs", "Logistics"),
        caption="Lorries queue outside the Calder Freight depot in Halbridge.",
        paragraphs=(
            "Calder Freight said on Wednesday it would cut about 400 jobs and close two sorting depots after "
            "parcel volumes fell for a third consecutive quarter, blaming weaker online shopping and the loss "
            "of a major retail contract to a rival carrier.",
            "The company, which employs around 5,200 people, said most of the cuts would fall at its depots in "
            "Halbridge and Tenmouth, which will close by the end of September. Staff will be offered transfers "
            "to other sites where possible, it said.",
            "Chief executive Gwen Atherley said the decision was painful but necessary. “We built capacity for "
            "a boom that has not returned,” she said in a statement. “We have to match our network to the "
            "volumes our customers are actually sending.”",
            "Revenue fell 9 per cent to 612 million in the year to February, while operating profit almost "
            "halved. The company also cut its dividend and said it would sell a fleet of older vans to reduce "
            "debt taken on during an expansion three years ago.",
            "Union officials said they would fight the closures and accused management of moving work to "
            "subcontractors paid by the parcel. “This is not about falling volumes, it is about cheaper "
            "labour,” said Darren Pask, a regional organiser for the transport workers’ union.",
            "Shares in Calder Freight fell 6 per cent in morning trading. Analysts said the restructuring had "
            "been expected but that the scale of the dividend cut had surprised some investors. The company will set out further details at an investor meeting next month.",
        ),
    ),
    Story(
        section="business",
        title="Brightwater Energy wins approval for an offshore wind farm off Kestrel Bay",
        authors=("Helena Vasquez", "Martin Okafor"),
        tags=("Brightwater Energy", "Wind power", "Kestrel Bay"),
        caption="A survey vessel off Kestrel Bay, where the turbines will be installed.",
        paragraphs=(
            "Brightwater Energy has won planning approval for a 1.2-gigawatt wind farm off Kestrel Bay, clearing "
            "the way for one of the largest infrastructure projects in the region’s history. The company said "
            "construction could begin next spring if financing is completed on time.",
            "The project will include up to 80 turbines installed about 30 kilometres from the coast, far enough "
            "that they will be barely visible from the shore on most days. A new substation will be built on "
            "former industrial land near the harbour at Ferrisport.",
            "Planning officials rejected objections from a group of fishing cooperatives, who argued that cable "
            "routes would cross some of the best scallop grounds in the bay. Brightwater agreed to reroute one "
            "cable and to fund a study of how the sea bed recovers after burial work.",
            "The company estimates the wind farm will cost about 3.4 billion to build and will create up to "
            "1,500 jobs during construction, including at a port facility where turbine blades will be "
            "assembled. About 120 permanent maintenance jobs will be based in Ferrisport.",
            "Finance director Olu Adeyemi said the company was in talks with three banks and a pension fund "
            "over a share of the cost. “The approval gives lenders the certainty they have been waiting for,” "
            "he said. “We expect to close the financing before the end of the year.”",
            "Local councillors welcomed the decision, saying the harbour had been waiting for a major employer "
            "since the closure of its last shipyard. Some residents remain worried about heavy traffic on the "
            "coast road during the construction period and have asked for a bypass around the village of Ness.",
        ),
    ),
    Story(
        section="business",
        title="Harlow & Pike shares jump after a surprise profit upgrade",
        authors=("Helena Vasquez",),
        tags=("Harlow & Pike", "Retail", "Markets"),
        caption="Shoppers outside the Harlow & Pike flagship store on Ridley Street.",
        paragraphs=(
            "Shares in the department store group Harlow & Pike rose 14 per cent on Tuesday after it raised its "
            "profit forecast for the second time in three months, saying customers had returned to its shops "
            "in larger numbers than expected over the winter.",
            "The company now expects pre-tax profit of between 88 million and 92 million for the year, up from "
            "a previous range of 70 million to 78 million. Sales in stores open for more than a year rose 7 per "
            "cent in the ten weeks to the end of February.",
            "Chief executive Rowan Pike, a great-grandson of one of the founders, said a decision to cut the "
            "number of ranges and invest in staff training had paid off. “People want to be helped by someone "
            "who knows the product,” he said. “That is the one thing a website cannot do.”",
            "The group closed nine loss-making stores last year and refurbished its flagship on Ridley Street, "
            "adding a food hall and a repair counter for clothes and shoes. The repair service alone has "
            "handled more than 30,000 orders since it opened in October.",
            "Retail analysts cautioned that the upgrade came from a low base and that spending could weaken if "
            "interest rates stayed high. “It is a good quarter, not yet a turnaround,” said Farah Qureshi, an "
            "analyst at the broker Lennox Marsh.",
            "The company will publish full-year results in May, when it is also expected to update investors "
            "on the sale of its warehouse in Brookfield and on plans to reopen a store in the city of Amberley, which closed during a rent dispute in 2022.",
        ),
    ),
    Story(
        section="business",
        title="Small bakeries feel the squeeze as flour prices hit a five-year high",
        authors=("Jonas Bramwell", "Aoife Kearney"),
        tags=("Food prices", "Small business", "Inflation"),
        caption="Loaves cooling at the Brannigan family bakery in Drumlane.",
        paragraphs=(
            "Independent bakeries say they are being forced to raise prices or cut opening hours after the "
            "wholesale cost of bread flour climbed to its highest level in five years, driven by a poor harvest "
            "across the main growing regions and higher transport costs.",
            "A sack of strong white flour now costs about 31 per cent more than it did a year ago, according to "
            "figures collected by the Craft Bakers’ Association. Butter and energy prices have also risen, "
            "though less sharply than during the spike two years ago.",
            "At the Brannigan family bakery in Drumlane, owner Siobhán Brannigan has raised the price of a "
            "sourdough loaf twice since Christmas. “Every customer notices,” she said. “Some of them tell us "
            "they understand, and some of them just stop coming.”",
            "The association said at least 40 of its members had closed in the past twelve months, most of them "
            "small shops in market towns. It is asking the government to extend an energy support scheme for "
            "businesses that run ovens for long hours overnight.",
            "Larger supermarket chains have so far absorbed much of the increase, buying flour on longer "
            "contracts and using their own bakeries. That has widened the gap between supermarket bread and "
            "loaves from independent shops, bakers say, and made it harder for small shops to compete on price alone.",
            "Grain traders expect prices to ease later in the year if the next harvest is normal. Until then, "
            "some bakers are experimenting with blends that use more local rye and spelt, which have been less "
            "affected by the shortage and give the bread a darker crust that regular customers seem to enjoy.",
            "“We have survived worse,” Ms Brannigan said, sliding another tray into the oven. “But every year "
            "it gets a little harder to explain to people why good bread costs what it costs. We just keep baking and hope they keep coming.”",
        ),
    ),
    Story(
        section="business",
        title="Port Ellery’s container terminal reopens after the crane strike ends",
        authors=("Martin Okafor",),
        tags=("Port Ellery", "Shipping", "Strikes"),
        caption="Cranes at the Port Ellery container terminal resume work on Sunday.",
        paragraphs=(
            "The container terminal at Port Ellery resumed full operations on Sunday after crane operators "
            "voted to accept a new pay offer, ending an eleven-day strike that left dozens of ships waiting "
            "at anchor and disrupted deliveries to shops and factories.",
            "Members of the dockers’ union backed the deal by 312 votes to 87. It gives crane operators a pay "
            "rise of 8 per cent this year and 4 per cent next year, along with a new rota that limits the "
            "number of consecutive night shifts.",
            "Terminal operator Ellery Gateway said it would take about two weeks to clear the backlog of "
            "containers. Ships that had diverted to other ports during the strike are expected to return over "
            "the coming month as schedules settle, and that extra weekend shifts had been added to speed up the work.",
            "Manufacturers in the region said the stoppage had left them short of parts. A car components "
            "maker near Wexby halted one production line for three days because it could not get steel "
            "fittings that were sitting in containers on the quay.",
            "The strike was the longest at the port since 1998. Union negotiator Bernadette Kowal said the "
            "result showed that operators “cannot keep running the terminal on goodwill and overtime”, and "
            "that staffing would be reviewed again next year. The operator declined to comment on her remarks.",
        ),
    ),
)

SCIENCE = (
    Story(
        section="science",
        title="Astronomers at Mirevale observatory spot a comet on an unusual path",
        authors=("Dr Anneke Visser",),
        tags=("Astronomy", "Comets", "Mirevale"),
        caption="The comet as a faint smudge in a long-exposure image taken at Mirevale.",
        paragraphs=(
            "Astronomers at the Mirevale observatory have discovered a faint comet travelling on a steeply "
            "tilted orbit that will carry it unusually close to the Sun next winter, a path that could make it "
            "visible through binoculars for a few weeks if it survives the approach.",
            "The object was first noticed by a graduate student, Ravi Menon, who was checking images taken for "
            "a survey of asteroids. “It looked like a smudge on the sensor at first,” he said. “Then it moved "
            "between frames, and it had a tail.”",
            "Follow-up observations from two other telescopes confirmed that the comet is on an orbit inclined "
            "at almost 70 degrees to the plane in which the planets travel. Researchers think it has come from "
            "the distant cloud of icy bodies that surrounds the solar system.",
            "Comets that pass close to the Sun often break apart as their ice evaporates, and the team warned "
            "that there is no guarantee of a bright display. “Comets are famous for disappointing people,” said "
            "observatory director Dr Katrin Holm. “We will know much more by the autumn.”",
            "The discovery has been reported to the international body that names comets, and it has been given "
            "a provisional designation. If confirmed, it will be the first comet discovered at Mirevale since "
            "the observatory opened in 1962, and staff have already started a sweepstake on its eventual name.",
            "The team plans to measure the comet’s brightness every clear night over the coming months to "
            "estimate the size of its nucleus, and is inviting amateur astronomers to send in their own "
            "observations through the observatory’s website. Clear skies are forecast for much of next week.",
        ),
    ),
    Story(
        section="science",
        title="Bees trained to detect crop blight in field trials",
        authors=("Tomasz Wielgosz", "Dr Anneke Visser"),
        tags=("Agriculture", "Bees", "Plant disease"),
        caption="A researcher checks a hive used in the blight-detection trials near Haldersby.",
        paragraphs=(
            "Honeybees can be trained to recognise the smell of a fungal blight that attacks potato crops and "
            "to signal its presence days before leaves show any damage, according to researchers who ran "
            "trials on farms near Haldersby and on a university test site last summer.",
            "The team exposed bees to the scent of infected plants while rewarding them with sugar water, a "
            "method that has been used to train insects to detect explosives. Trained bees then spent more time "
            "hovering over infected rows than over healthy ones.",
            "Cameras fixed at the edges of the fields tracked the bees and produced maps of where they "
            "lingered. In eleven of fourteen tests, the maps pointed to blight at least four days before it "
            "was found by agronomists walking the fields.",
            "“Farmers usually spray whole fields as a precaution,” said Dr Lena Haas, who led the study. “If you "
            "know where the disease starts, you can treat a corner of the field instead of all of it, which "
            "saves money and keeps chemicals out of the soil.”",
            "Other scientists said the results were promising but that the trials were small and took place "
            "in a single, unusually dry season. Bees are also less active in wind and rain, which are the "
            "conditions in which blight tends to spread fastest.",
            "The researchers plan to repeat the trials on a larger scale this year with the help of two farming "
            "cooperatives, and to test whether bees from the same hive can be trained to detect more than one "
            "disease at a time.",
        ),
    ),
    Story(
        section="science",
        title="Deep-sea survey finds coral gardens off the Norhaven shelf",
        authors=("Kirsten Dahl",),
        tags=("Oceans", "Coral", "Norhaven"),
        caption="Cold-water corals photographed by a remotely operated vehicle at 640 metres.",
        paragraphs=(
            "A research expedition has found extensive gardens of cold-water coral on the steep slopes at the "
            "edge of the Norhaven continental shelf, in an area that had been proposed for deep-sea trawling "
            "and had never before been surveyed with cameras.",
            "The team, working from the research vessel Aurora Keel, used a remotely operated vehicle to film "
            "the sea bed at depths of between 400 and 900 metres. The footage shows dense thickets of branching "
            "coral, sponges the size of armchairs and large numbers of fish and crabs.",
            "Chief scientist Dr Sunniva Berg said the corals grow only a few millimetres a year, meaning some of "
            "the colonies are likely to be several centuries old. “Once a trawl net passes over this, it will "
            "not come back in our lifetimes,” she said.",
            "The survey was funded by the fisheries ministry after environmental groups challenged plans to open "
            "new fishing grounds along the shelf edge. The ministry said it would consider the findings before "
            "making a final decision later this year, after a public consultation that opens in April.",
            "Representatives of the fishing industry said they supported protecting the most important sites "
            "but argued that a blanket ban would be unnecessary. They have proposed a system of closed boxes "
            "around known coral areas, with fishing allowed in between and observers carried on every vessel.",
            "The scientists have made more than 30 hours of video available to other researchers and plan to "
            "return next year to survey a second stretch of the slope further north, where sonar maps suggest even larger reefs may lie beneath strong currents.",
        ),
    ),
    Story(
        section="science",
        title="Researchers grow drought-tolerant barley from an old seed bank",
        authors=("Tomasz Wielgosz",),
        tags=("Agriculture", "Climate", "Genetics"),
        caption="Trial plots of heritage barley at the Eskerby research station.",
        paragraphs=(
            "Plant breeders have grown a drought-tolerant strain of barley from seeds that had been stored in a "
            "national seed bank for more than seventy years, and say it could help farmers cope with longer "
            "dry spells without relying on genetic modification.",
            "The seeds came from a landrace once grown by farmers on the dry eastern plains, which disappeared "
            "from fields in the 1950s when higher-yielding modern varieties took over. Only a few hundred grams "
            "survived in cold storage at the Eskerby research station.",
            "In trials over two summers, plants grown from the old seed produced about 20 per cent less grain "
            "than modern barley when water was plentiful, but almost twice as much during a simulated drought, "
            "when irrigation was cut by two-thirds.",
            "The breeders have since crossed the landrace with a modern variety to combine its hardiness with "
            "better yields. “We are not trying to turn the clock back,” said Dr Magnus Ekholm. “We are "
            "borrowing a few good ideas from farmers who solved this problem long ago.”",
            "Brewers have also taken an interest. A small brewery in Fennick has made a test batch of beer from "
            "the first harvest and says the grain gives a slightly nutty flavour that customers have liked. It plans to brew a larger batch this autumn.",
            "The research station hopes to release seed of the new cross to farmers within four years, once it "
            "has completed the official trials needed before any new variety can be sold. Two seed companies have already asked for samples of the new cross.",
        ),
    ),
    Story(
        section="science",
        title="Drones measure a fast retreat of glaciers in the Aster range",
        authors=("Kirsten Dahl", "Dr Anneke Visser"),
        tags=("Glaciers", "Climate", "Drones"),
        caption="A survey drone over the snout of the Hallvard glacier in the Aster range.",
        paragraphs=(
            "Glaciers in the Aster mountains lost ice at almost twice the previous estimated rate over the past "
            "five years, according to a study that used drones to map the surface of eighteen glaciers in far "
            "greater detail than satellite images allow.",
            "Researchers from the university of Lindquist flew the drones every autumn since 2021, building "
            "three-dimensional models accurate to a few centimetres. Comparing the models showed that the "
            "largest glacier, the Hallvard, thinned by an average of 2.3 metres a year.",
            "Earlier estimates based on satellite data had suggested a loss of about 1.2 metres a year. The "
            "team said the difference was largely explained by steep, shaded areas near the glacier edges that "
            "satellites struggle to measure, and by the coarse resolution of older elevation maps.",
            "Lead author Dr Oskar Lindgren said the findings mattered for towns in the valleys below, which rely "
            "on meltwater for drinking water and hydroelectric power. “The glaciers are a savings account, and "
            "we are spending it faster than we thought,” he said.",
            "The study also found that two small glaciers on south-facing slopes have effectively stopped "
            "moving and are now classed as stagnant ice. Researchers expect them to disappear entirely within "
            "the next two decades, leaving bare rock where skiers crossed ice within living memory.",
            "The team plans to install weather stations on three of the glaciers this summer to understand how "
            "much of the melting is caused by warmer air and how much by dust and soot darkening the ice. The results are expected to be published next year.",
        ),
    ),
)

# Interleaved so consecutive publication dates rotate through the sections.
ALL_STORIES: tuple[Story, ...] = tuple(s for trio in zip(WORLD, BUSINESS, SCIENCE) for s in trio)
