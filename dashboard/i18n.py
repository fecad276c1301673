"""UI labels in Simplified Chinese (default) and English."""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    "platform": ("市域社会治理综合指挥平台", "Municipal Social Governance Command Center"),
    "received": ("今日受理", "Received today"),
    "accepted": ("今日立案", "Accepted today"),
    "closed": ("今日结案", "Closed today"),
    "on_time_closing_rate": ("按期结案率", "On-time closing"),
    "overdue": ("超期未办结", "Overdue open"),
    "satisfaction_rate": ("满意率", "Satisfaction"),
    "on_duty": ("在岗网格员", "Grid staff on duty"),
    "alerts": ("活跃预警", "Active alerts"),
    "vs_yesterday": ("较昨日同时", "vs. same time yesterday"),
    "updated_at": ("数据更新于", "Data updated"),
    "live_interrupted": ("实时数据中断", "Live data interrupted"),
    "throughput": ("事件流量（每分钟）", "Events per minute"),
    "new_events": ("新增", "New"),
    "closures": ("结案", "Closed"),
    "loop": (
        "闭环流转：发现 → 立案 → 派遣 → 处置 → 结案",
        "The loop: found → accepted → dispatched → handled → closed",
    ),
    "map": ("各区在办事件（每万人）", "Open events per 10k residents"),
    "per_10k": ("每万人", "per 10k"),
    "category_mix": ("今日事件类别", "Today by category"),
    "source_mix": ("今日事件来源", "Today by source"),
    "board": ("本周部门按期结案率", "Departments: on-time closing this week"),
    "radar": ("五治融合指数（本周）", "Five-governance index (this week)"),
    "ticker": ("最新事件", "Latest events"),
    "active_alerts": ("活跃预警", "Active alerts"),
    "no_alerts": ("暂无活跃预警", "No active alerts"),
    "language": ("English", "中文"),
    "top": ("前五", "Top 5"),
    "bottom": ("后五", "Bottom 5"),
    # accounts
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "sign_in_first": ("请先登录", "Sign in first"),
    "bad_login": ("用户名或密码错误", "Wrong user name or password"),
    "tries_left": ("还可尝试 {left} 次", "{left} tries left"),
    "account_locked": (
        "登录失败次数过多，账号已临时锁定，请 {minutes} 分钟后再试",
        "Too many failed sign-ins: the account is locked for {minutes} min",
    ),
    "address_locked": (
        "此地址登录失败次数过多，请 {minutes} 分钟后再试",
        "Too many failed sign-ins from this address: try again in {minutes} min",
    ),
    "sign_in_unavailable": ("登录服务暂不可用，请稍后再试", "Sign-in is unavailable, try later"),
    "session_expired": ("会话已过期，请重新登录", "Your session has ended, sign in again"),
    "display_token_invalid": ("显示令牌无效或已撤销", "The display token is invalid or revoked"),
    "not_allowed": ("无权访问", "Not allowed for your role"),
    "forbidden": ("无权访问", "Forbidden"),
    "csrf_failed": ("请求校验失败，请刷新页面后重试", "Request check failed, reload the page"),
    "change_password": ("修改密码", "Change password"),
    "current_password": ("当前密码", "Current password"),
    "new_password": ("新密码", "New password"),
    "repeat_password": ("再次输入新密码", "New password again"),
    "min_chars": ("至少 {n} 个字符", "at least {n} characters"),
    "passwords_differ": ("两次输入的新密码不一致", "The new passwords differ"),
    "bad_current_password": ("当前密码错误", "The current password is wrong"),
    "password_changed": ("密码已修改，其他会话已退出", "Password changed; other sessions ended"),
    "back": ("返回", "Back"),
    # administration
    "admin_users": ("用户与角色", "Users and roles"),
    "admin_tokens": ("令牌", "Tokens"),
    "admin_audit": ("审计日志", "Audit log"),
    "col_username": ("用户名", "User"),
    "col_role": ("角色", "Role"),
    "col_area": ("辖区", "District"),
    "col_active": ("启用", "Active"),
    "col_created_at": ("创建时间", "Created"),
    "col_id": ("编号", "ID"),
    "col_name": ("名称", "Name"),
    "col_kind": ("类型", "Kind"),
    "col_source": ("来源", "Source"),
    "col_revoked_at": ("撤销时间", "Revoked"),
    "col_at": ("时间", "Time"),
    "col_actor": ("操作人", "Actor"),
    "col_action": ("动作", "Action"),
    "col_target": ("对象", "Target"),
    "col_detail": ("详情", "Detail"),
    "col_address": ("地址", "Address"),
    "role_leader": ("领导", "Leader"),
    "role_duty_officer": ("值班员", "Duty officer"),
    "role_district_officer": ("区级人员", "District officer"),
    "role_analyst": ("分析员", "Analyst"),
    "role_admin": ("管理员", "Administrator"),
    "kind_display": ("大屏显示令牌", "Wall display"),
    "kind_ingest": ("数据接入令牌", "Ingest"),
    "create_user": ("创建用户", "Create user"),
    "deactivate": ("停用", "Deactivate"),
    "activate": ("启用", "Activate"),
    "reset_password": ("重置密码", "Reset password"),
    "change_role": ("修改角色", "Change role"),
    "create_token": ("创建令牌", "Create token"),
    "revoke": ("撤销", "Revoke"),
    "search": ("搜索操作人、对象、详情", "Search actor, target, detail"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "user_created": ("已创建用户，初始密码仅显示一次", "User created; the password is shown once"),
    "password_reset": ("密码已重置，仅显示一次", "Password reset; shown once"),
    "token_created": ("令牌已创建，仅显示一次", "Token created; shown once"),
    "saved": ("已保存", "Saved"),
    "revoked": ("已撤销", "Revoked"),
    "audit_shown": ("显示最近 {n} 条", "{n} newest entries"),
    # the page that does not exist
    "not_found": ("页面不存在", "Page not found"),
    "not_found_detail": (
        "没有这个地址的页面，可能链接有误或页面已移动。",
        "No page has this address: the link may be wrong or the page has moved.",
    ),
    "to_overview": ("返回总览", "Back to the overview"),
}
ALERT_LEVELS = {1: ("红", "Red"), 2: ("橙", "Orange"), 3: ("黄", "Yellow"), 4: ("蓝", "Blue")}


def t(key: str, lang: str = "zh") -> str:
    zh, en = LABELS[key]
    return zh if lang == "zh" else en


def platform_title(city: str, lang: str = "zh") -> str:
    """云州市市域社会治理综合指挥平台 / 云州市 Municipal Social Governance Command Center."""
    return f"{city}{t('platform', lang)}" if lang == "zh" else f"{city} {t('platform', lang)}"


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]
