"""Settings from the environment, and masking of personal data."""

from __future__ import annotations

import pytest

from dashboard.config import load_settings
from dashboard.privacy import mask_id_number, mask_name, mask_phone


def test_defaults_and_overrides(tmp_path):
    s = load_settings({"VAR_DIR": str(tmp_path)})
    assert (s.host, s.port, s.tz, s.lang, s.demo, s.scheduler) == (
        "127.0.0.1",
        8050,
        "Asia/Shanghai",
        "zh",
        True,
        True,
    )
    assert s.effective_database_url.startswith("sqlite:///") and not s.redis_url
    assert len(s.secret_key) > 40
    assert load_settings({"VAR_DIR": str(tmp_path)}).secret_key == s.secret_key  # kept
    s = load_settings(
        {
            "VAR_DIR": str(tmp_path),
            "PORT": "9000",
            "LANG": "en_US.UTF-8",
            "DEMO": "off",
            "SIMULATOR_RATE": "0",
            "CITY_NAME": "海州市",
            "DATABASE_URL": "postgresql://x@y/z",
            "SECRET_KEY": "k",
        }
    )
    assert (s.port, s.lang, s.demo, s.simulator_rate, s.city_name, s.secret_key) == (
        9000,
        "en",
        False,
        0.0,
        "海州市",
        "k",
    )
    assert s.effective_database_url == "postgresql://x@y/z"


@pytest.mark.parametrize(
    "env", [{"PORT": "x"}, {"DEMO": "maybe"}, {"TZ": "Mars/Base"}, {"SIMULATOR_RATE": "-1"}]
)
def test_bad_settings_fail_clearly(tmp_path, env):
    with pytest.raises(Exception) as exc:
        load_settings({"VAR_DIR": str(tmp_path), **env})
    assert str(exc.value)


def test_masks():
    assert mask_name("张三") == "张*" and mask_name("欧阳娜娜") == "欧***"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"  # the country code is not the number
    assert mask_phone("0571-8888") == "****8888"
    assert mask_id_number("11010119900307123X") == "110***********123X"
    assert mask_name(None) is None and mask_phone("") == ""
