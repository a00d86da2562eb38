"""One event-pattern engine for every place AWS filters JSON with patterns.

EventBridge rules, SNS subscription filter policies and Lambda event source mappings'
FilterCriteria all speak the language of AWS's Event Ruler: a pattern is a JSON object
whose leaves are arrays of matchers (exact values, `prefix`, `suffix`, `anything-but`,
`numeric`, `exists`, `cidr`, `equals-ignore-case`, `wildcard`), combined with `$or`.
A pattern is compiled once (`compile_pattern`) into a disjunction of conjunctions of
(path, matchers); `RuleSet` indexes many compiled patterns by the exact values they require,
so an event is checked only against the patterns that can match it.

The engine raises `PatternError` with Event Ruler's reason; each service words it into its
own error (EventBridge's InvalidEventPatternException, SNS's InvalidParameter, Lambda's
InvalidParameterValueException), so no service's error code lives here.
"""

from lambent.event_patterns.compile import CompiledPattern, Dialect, compile_pattern
from lambent.event_patterns.errors import PatternError
from lambent.event_patterns.esm import esm_matches, esm_view
from lambent.event_patterns.ruleset import RuleSet

__all__ = [
    "CompiledPattern",
    "Dialect",
    "PatternError",
    "RuleSet",
    "compile_pattern",
    "esm_matches",
    "esm_view",
]
