"""The data preparation toolkit: `python -m helpers.prepare_data -f FILE [-q]`, and its API.

Prompt/completion files (babbage-002, davinci-002) get the legacy `fine_tunes.prepare_data`
analysis and fixes; chat files get a validation against the training format and token
statistics. See README.md beside this file.
"""

from helpers.chat_conversion import completions_to_chat
from helpers.errors import InputFileError
from helpers.prepare_data.chat_export import convert_completions_file
from helpers.prepare_data.chat_report import ChatFileReport, validate_chat_file
from helpers.prepare_data.completions import PreparationReport, prepare_completions_file

__all__ = [
    "ChatFileReport",
    "InputFileError",
    "PreparationReport",
    "completions_to_chat",
    "convert_completions_file",
    "prepare_completions_file",
    "validate_chat_file",
]
