"""Every rule of the game, one module per part:
- ``tokens``: a game's state in the signed token its pages carry;
- ``items``: the game's pictures of a campaign, with their clues, read once per change;
- ``play``: a new game's pictures, and an answer counted once;
- ``choosing``: moderators choose the verdicts that play, and see how they did;
- ``pictures``: the question, answer and share pictures, drawn once and kept;
- ``figures``: the game's counts on the transparency page.

Callers import the package (``from pledge.game import service as game``).
"""

from pledge.game.service.choosing import (
    CaseGame,
    ChoiceForm,
    Play,
    case_game,
    choose,
    counts_by_campaign,
    playable_problem,
)
from pledge.game.service.figures import fooling_by_campaign, game_figures
from pledge.game.service.items import (
    PICTURE_BOX,
    Clue,
    ClueKind,
    Item,
    Kind,
    cached_items,
    case_items,
    item_key,
    list_items,
    read_items,
    version,
)
from pledge.game.service.pictures import (
    answer_key,
    answer_picture,
    kept,
    question_key,
    question_picture,
    share_card,
)
from pledge.game.service.play import (
    PICTURES_MIN,
    answer,
    choose_order,
    is_ready,
    is_right,
    new_game,
    pictures_in_a_game,
    prune,
)
from pledge.game.service.tokens import (
    MAX_AGE_SECONDS,
    PICTURES_MAX,
    Answer,
    BadToken,
    GameState,
    TokenProblem,
    dump,
    load,
)

__all__ = [
    "MAX_AGE_SECONDS",
    "PICTURES_MAX",
    "PICTURES_MIN",
    "PICTURE_BOX",
    "Answer",
    "BadToken",
    "CaseGame",
    "ChoiceForm",
    "Clue",
    "ClueKind",
    "GameState",
    "Item",
    "Kind",
    "Play",
    "TokenProblem",
    "answer",
    "answer_key",
    "answer_picture",
    "cached_items",
    "case_game",
    "case_items",
    "choose",
    "choose_order",
    "counts_by_campaign",
    "dump",
    "fooling_by_campaign",
    "game_figures",
    "is_ready",
    "is_right",
    "item_key",
    "kept",
    "list_items",
    "load",
    "new_game",
    "pictures_in_a_game",
    "playable_problem",
    "prune",
    "question_key",
    "question_picture",
    "read_items",
    "share_card",
    "version",
]
