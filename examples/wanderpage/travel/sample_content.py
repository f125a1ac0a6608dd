"""The sample destinations that migration 0002 loads. Replace them in the admin."""

DESTINATIONS = [
    {
        "name": "Kyoto",
        "slug": "kyoto",
        "country": "Japan",
        "region": "asia",
        "summary": "Temples, moss gardens and wooden machiya on quiet lanes.",
        "description": (
            "Japan's imperial capital for more than a thousand years, Kyoto keeps some 1,600 "
            "temples and 400 shrines. Walk the Philosopher's Path under the cherry trees, climb "
            "through the vermilion gates of Fushimi Inari at dawn, and end the day in the lanes "
            "of Gion, where teahouses still light their lanterns."
        ),
        "best_season": "Late March to early April; November for the maples",
        "latitude": "35.01160",
        "longitude": "135.76810",
    },
    {
        "name": "Patagonia",
        "slug": "patagonia",
        "country": "Argentina and Chile",
        "region": "americas",
        "summary": "Granite spires, blue glaciers and the wind at the end of the world.",
        "description": (
            "The southern tip of South America is shared by two countries and belongs to the "
            "wind. Trek the W circuit beneath the towers of Torres del Paine, hear the Perito "
            "Moreno glacier calve into Lago Argentino, and watch the light change on Fitz Roy "
            "from El Chaltén."
        ),
        "best_season": "November to March",
        "latitude": "-50.94230",
        "longitude": "-73.40680",
    },
    {
        "name": "Lisbon",
        "slug": "lisbon",
        "country": "Portugal",
        "region": "europe",
        "summary": "Seven hills, yellow trams and the light over the Tagus.",
        "description": (
            "Lisbon climbs from the river in tiled facades and steep cobbled streets. Ride tram "
            "28 through Alfama, hear fado in a small tavern, and take the train to Belém for "
            "the Jerónimos Monastery and a custard tart still warm from the oven."
        ),
        "best_season": "April to June, September to October",
        "latitude": "38.72230",
        "longitude": "-9.13930",
    },
    {
        "name": "Marrakesh",
        "slug": "marrakesh",
        "country": "Morocco",
        "region": "africa",
        "summary": "Souks, riads and the Atlas Mountains on the horizon.",
        "description": (
            "Inside the red walls of the medina, the square of Jemaa el-Fnaa fills at dusk with "
            "storytellers, musicians and food stalls. Lose yourself in the souks, rest in a "
            "riad's courtyard garden, and drive an hour south to the villages of the High Atlas."
        ),
        "best_season": "March to May, October to November",
        "latitude": "31.62950",
        "longitude": "-7.98110",
    },
    {
        "name": "Queenstown",
        "slug": "queenstown",
        "country": "New Zealand",
        "region": "oceania",
        "summary": "A lake town ringed by the Remarkables, gateway to Milford Sound.",
        "description": (
            "Queenstown sits on the shore of Lake Wakatipu with mountains on every side. Hike "
            "the Ben Lomond track, ski the Remarkables in winter, and drive the road to Milford "
            "Sound, where waterfalls drop a thousand metres into the fiord."
        ),
        "best_season": "December to February; June to August for skiing",
        "latitude": "-45.03120",
        "longitude": "168.66260",
    },
    {
        "name": "Reykjavík",
        "slug": "reykjavik",
        "country": "Iceland",
        "region": "europe",
        "summary": "Geysers, black-sand beaches and the northern lights.",
        "description": (
            "The world's northernmost capital is the start of the Golden Circle: the rift "
            "valley of Þingvellir, the Strokkur geyser and the falls of Gullfoss. In winter the "
            "aurora dances over the lava fields; in summer the sun barely sets."
        ),
        "best_season": "June to August; September to March for the aurora",
        "latitude": "64.14660",
        "longitude": "-21.94260",
    },
    {
        "name": "Hoi An",
        "slug": "hoi-an",
        "country": "Vietnam",
        "region": "asia",
        "summary": "A lantern-lit trading port on the Thu Bồn river.",
        "description": (
            "Hoi An's old town kept its merchant houses, Chinese assembly halls and the covered "
            "Japanese bridge from its centuries as a trading port. Cycle out to the rice fields "
            "and An Bang beach, and at the full moon float a paper lantern down the river."
        ),
        "best_season": "February to April",
        "latitude": "15.88010",
        "longitude": "108.33800",
    },
    {
        "name": "Banff",
        "slug": "banff",
        "country": "Canada",
        "region": "americas",
        "summary": "Turquoise lakes beneath the peaks of the Canadian Rockies.",
        "description": (
            "Canada's first national park holds Lake Louise and Moraine Lake, whose glacial "
            "flour turns the water a colour that looks painted. Drive the Icefields Parkway to "
            "the Columbia Icefield, and watch for elk and bighorn sheep along the way."
        ),
        "best_season": "June to September",
        "latitude": "51.17840",
        "longitude": "-115.57080",
    },
]
