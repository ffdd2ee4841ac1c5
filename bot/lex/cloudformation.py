"""The CloudFormation template: the Lex bot inline, its version and alias, the Lambda
that answers every code hook, and least-privilege roles for both.

The bot's properties follow the AWS::Lex::Bot resource schema (PascalCase, checked by
cfn-lint), not the import zip's format. Each bot definition gets its own
AWS::Lex::BotVersion, named after a hash of the definition, so an update that changes
the bot publishes a new version and moves the alias to it; an unchanged bot keeps its
version. Both the alias and the console's test alias call the Lambda.
"""

from __future__ import annotations

import hashlib
import json
import math

from bot.lex.definition import DECLINATION, LexBot, LexIntent, LexSlot, SlotType

LOCALE = "en_US"
VOICE = "Joanna"
NLU_THRESHOLD = 0.4
IDLE_SESSION_TTL = 300
MAX_RETRIES = 2
RUNTIME = "python3.12"
HANDLER = "lambda_handlers.fulfillment.handler"
ALIAS_NAME = "live"
TEST_ALIAS_ID = "TSTALIASID"  # the test alias Lex makes for every bot (the console's Test window)
BOT_DESCRIPTION = "CourseBot, exported from its Rasa project"
# Seconds the function may run beyond one AWS call's whole deadline (`aws: call_deadline`,
# every retry included): the cold start's project load, the turn's other work, the answer.
TIMEOUT_MARGIN = 20
MAX_LAMBDA_TIMEOUT = 900
MEMORY_MB = 256
# What the function reads from its environment: the SageMaker execution role given to
# `coursebot deploy lex`, and the key of the keyed hashes that tag AWS resources (bot/server_key.py).
ROLE_ENV = "COURSEBOT_ROLE_ARN"
SECRET_ENV = "COURSEBOT_SECRET_KEY"
# The Lex bot's own runtime role may only speak through Polly.
BOT_RUNTIME_ACTIONS = ["polly:SynthesizeSpeech"]
LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]


def build_template(bot: LexBot, statements: list[dict], lambda_code: tuple[str, str] | None, *,
                   call_deadline: float = 20.0) -> dict:
    """The template as a dict; `statements` are the IAM statements the bot's actions need, and
    `call_deadline` the longest one AWS call of the bot may take (it sets the function's timeout)."""
    bucket, key = lambda_code or (None, None)
    function_arn = {"Fn::GetAtt": ["FulfillmentFunction", "Arn"]}
    parameters = {
        "CodeBucket": {"Type": "String", "Description": "S3 bucket holding the Lambda bundle"},
        "CodeKey": {"Type": "String", "Description": "S3 key of the Lambda bundle (.zip)"},
        "ExecutionRoleArn": {"Type": "String", "Description": "The SageMaker execution role the bot passes to "
                             "notebooks and training jobs (aws: role_arn)"},
        "ImageBucket": {"Type": "String", "Description": "The bucket whose images Rekognition may read"},
        "SecretKey": {"Type": "String", "NoEcho": True, "MinLength": 32,
                      "Description": "The key of the keyed hashes that tag what the bot starts; made once by "
                                     "'coursebot deploy lex' and kept on updates (a new key orphans those tags)"},
    }
    if bucket:
        parameters["CodeBucket"]["Default"], parameters["CodeKey"]["Default"] = bucket, key
    definition = _bot_properties(bot)
    digest = definition_hash(definition)
    version = f"BotVersion{digest}"
    resources = {
        "BotRuntimeRole": _role("lexv2.amazonaws.com", "LexBotRuntime", [
            {"Effect": "Allow", "Action": BOT_RUNTIME_ACTIONS, "Resource": "*"}]),
        "FulfillmentRole": _role("lambda.amazonaws.com", "CourseBotActions", [
            {"Sid": "WriteItsOwnLogs", "Effect": "Allow", "Action": LOG_ACTIONS, "Resource": {
                "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
                           "/aws/lambda/${AWS::StackName}-fulfillment:*"}},
            *(_deployable(statement) for statement in statements)]),
        "FulfillmentFunction": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": {"Fn::Sub": "${AWS::StackName}-fulfillment"}, "Runtime": RUNTIME, "Handler": HANDLER,
            "Code": {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}},
            "Role": {"Fn::GetAtt": ["FulfillmentRole", "Arn"]}, "Timeout": function_timeout(call_deadline),
            "MemorySize": MEMORY_MB,
            "Environment": {"Variables": {ROLE_ENV: {"Ref": "ExecutionRoleArn"}, SECRET_ENV: {"Ref": "SecretKey"}}},
            "Description": f"{bot.name}: Lex V2 dialog and fulfillment code hook"}},
        "Bot": {"Type": "AWS::Lex::Bot", "Properties": {
            **definition,
            "RoleArn": {"Fn::GetAtt": ["BotRuntimeRole", "Arn"]},
            "TestBotAliasSettings": {"BotAliasLocaleSettings": _alias_locales(function_arn)}}},
        version: {"Type": "AWS::Lex::BotVersion", "Properties": {
            "BotId": {"Ref": "Bot"}, "Description": f"{bot.name} definition {digest}",
            "BotVersionLocaleSpecification": [
                {"LocaleId": LOCALE, "BotVersionLocaleDetails": {"SourceBotVersion": "DRAFT"}}]}},
        "BotAlias": {"Type": "AWS::Lex::BotAlias", "Properties": {
            "BotId": {"Ref": "Bot"}, "BotAliasName": ALIAS_NAME,
            "BotVersion": {"Fn::GetAtt": [version, "BotVersion"]},
            "BotAliasLocaleSettings": _alias_locales(function_arn)}},
        "LexInvokePermission": _invoke_permission(function_arn, {"Fn::GetAtt": ["BotAlias", "Arn"]}),
        "LexTestAliasInvokePermission": _invoke_permission(function_arn, {
            "Fn::Sub": f"arn:${{AWS::Partition}}:lex:${{AWS::Region}}:${{AWS::AccountId}}:bot-alias/${{Bot}}/"
                       f"{TEST_ALIAS_ID}"}),
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{bot.name}: Amazon Lex V2 bot with its Lambda code hook (generated by coursebot)",
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": {
            "BotId": {"Value": {"Ref": "Bot"}},
            "BotVersion": {"Value": {"Fn::GetAtt": [version, "BotVersion"]}},
            "BotAliasArn": {"Value": {"Fn::GetAtt": ["BotAlias", "Arn"]}},
            "FunctionArn": {"Value": function_arn},
        },
    }


def definition_hash(properties: dict) -> str:
    """12 hex digits of what the bot says (its properties as canonical JSON)."""
    canonical = json.dumps(properties, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def function_timeout(call_deadline: float) -> int:
    """Seconds: one AWS call's whole deadline, retries included, plus the rest of the turn."""
    return min(MAX_LAMBDA_TIMEOUT, math.ceil(call_deadline) + TIMEOUT_MARGIN)


def _bot_properties(bot: LexBot) -> dict:
    """The bot's definition: what a new version is published for when it changes."""
    return {
        "Name": bot.name, "Description": BOT_DESCRIPTION,
        "DataPrivacy": {"ChildDirected": False}, "IdleSessionTTLInSeconds": IDLE_SESSION_TTL,
        "AutoBuildBotLocales": True,
        "BotLocales": [{
            "LocaleId": LOCALE, "NluConfidenceThreshold": NLU_THRESHOLD, "VoiceSettings": {"VoiceId": VOICE},
            "SlotTypes": [_slot_type(slot_type) for slot_type in bot.slot_types],
            "Intents": [_intent(intent) for intent in bot.intents]}]}


def _alias_locales(function_arn: dict) -> list[dict]:
    return [{"LocaleId": LOCALE, "BotAliasLocaleSetting": {
        "Enabled": True, "CodeHookSpecification": {"LambdaCodeHook": {
            "CodeHookInterfaceVersion": "1.0", "LambdaArn": function_arn}}}}]


def _invoke_permission(function_arn: dict, source_arn: dict) -> dict:
    return {"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction", "FunctionName": function_arn,
        "Principal": "lexv2.amazonaws.com", "SourceArn": source_arn}}


def _deployable(statement: dict) -> dict:
    """docs/iam-policy.json with its example account and bucket replaced by parameters."""
    actions = statement.get("Action")
    if actions == "iam:PassRole":
        return {**statement, "Resource": {"Ref": "ExecutionRoleArn"}}
    if actions == "s3:GetObject":
        return {**statement, "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ImageBucket}/*"}}
    return statement


def _role(service: str, policy_name: str, statements: list[dict]) -> dict:
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": policy_name,
                      "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]}}


def _intent(intent: LexIntent) -> dict:
    properties: dict = {"Name": intent.name, "Description": intent.description,
                        "FulfillmentCodeHook": {"Enabled": True}}
    if intent.parent_signature:
        properties["ParentIntentSignature"] = intent.parent_signature
        return properties
    properties["DialogCodeHook"] = {"Enabled": True}
    if intent.utterances:
        properties["SampleUtterances"] = [{"Utterance": utterance} for utterance in intent.utterances]
    if intent.slots:
        properties["Slots"] = [_slot(slot) for slot in intent.slots]
        properties["SlotPriorities"] = [{"SlotName": slot.name, "Priority": rank}
                                        for rank, slot in enumerate(intent.slots, start=1)]
    if intent.confirmation:
        properties["IntentConfirmationSetting"] = {
            "PromptSpecification": {"MessageGroupsList": _messages([intent.confirmation]),
                                    "MaxRetries": MAX_RETRIES},
            "DeclinationResponse": {"MessageGroupsList": _messages([DECLINATION])}}
    return properties


def _slot(slot: LexSlot) -> dict:
    return {"Name": slot.name, "SlotTypeName": slot.slot_type, "ValueElicitationSetting": {
        "SlotConstraint": "Required" if slot.required else "Optional",
        "PromptSpecification": {"MessageGroupsList": _messages(slot.prompt), "MaxRetries": MAX_RETRIES}}}


def _slot_type(slot_type: SlotType) -> dict:
    values = []
    for value, synonyms in slot_type.values.items():
        item: dict = {"SampleValue": {"Value": value}}
        if synonyms:
            item["Synonyms"] = [{"Value": synonym} for synonym in synonyms]
        values.append(item)
    return {"Name": slot_type.name, "Description": f"Values of the entity '{slot_type.entity}'",
            "SlotTypeValues": values, "ValueSelectionSetting": {"ResolutionStrategy": slot_type.strategy}}


def _messages(texts) -> list[dict]:
    texts = list(texts)
    group: dict = {"Message": {"PlainTextMessage": {"Value": texts[0]}}}
    if len(texts) > 1:
        group["Variations"] = [{"PlainTextMessage": {"Value": text}} for text in texts[1:3]]
    return [group]
