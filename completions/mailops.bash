# bash completion for mailops (generated from the command definitions; do not edit)
_mailops() {
  local cur prev cmd
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  cmd="${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "connect disconnect status folders ls read send mark move search sync --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
    connect)
      case "$prev" in
        --provider) COMPREPLY=($(compgen -W "imap gmail outlook" -- "$cur")); return ;;
        --imap-tls) COMPREPLY=($(compgen -W "implicit starttls none" -- "$cur")); return ;;
        --smtp-tls) COMPREPLY=($(compgen -W "implicit starttls none" -- "$cur")); return ;;
        --secret-store) COMPREPLY=($(compgen -W "keychain file" -- "$cur")); return ;;
        --backend) COMPREPLY=($(compgen -W "api imap" -- "$cur")); return ;;
        --email|--password-file|--ca-file|--port|--passphrase-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      COMPREPLY=($(compgen -W "--provider --email --user --imap-host --imap-port --imap-tls --smtp-host --smtp-port --smtp-tls --password-env --password-file --password-stdin --password-cmd --insecure --ca-file --secret-store --client-id --client-secret --client-secrets --tenant --no-browser --device-code --port --backend --read-only --scope-full --default --priority --diagnose --explain -a --account --json --no-color --no-input --timeout --trace --passphrase-file --help" -- "$cur")) ;;
    disconnect)
      case "$prev" in
        --passphrase-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      COMPREPLY=($(compgen -W "-a --account --json --no-color --no-input --timeout --trace --passphrase-file --help" -- "$cur")) ;;
    status)
      case "$prev" in
        -f|--folder) COMPREPLY=($(compgen -W "@inbox @sent @drafts @trash @junk @archive @all @flagged" -- "$cur")); return ;;
        --passphrase-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      COMPREPLY=($(compgen -W "--offline --diagnose --nagios -w --warning -c --critical -f --folder --probe --probe-to --probe-wait -a --account --json --ndjson --no-color --no-input --timeout --trace --passphrase-file --help" -- "$cur")) ;;
    folders)
      case "$prev" in
        --passphrase-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      COMPREPLY=($(compgen -W "--offline -a --account --json --ndjson --no-color --no-input --timeout --trace --passphrase-file --help" -- "$cur")) ;;
    ls)
      case "$prev" in
        -f|--folder) COMPREPLY=($(compgen -W "@inbox @sent @drafts @trash @junk @archive @all @flagged" -- "$cur")); return ;;
        --passphrase-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      COMPREPLY=($(compgen -W "-f --folder --limit --page --unread --since --before --from --offline -a --account --json --ndjson --no-color --no-input --timeout --trace --passphrase-file --help" -- "$cur")) ;;
    read)
      case "$prev" in
        -f|--folder) COMPREPLY=($(compgen -W "@inbox @sent @drafts @trash @junk @archive @all @flagged" -- "$cur")); return ;;
        --save-attachments|--passphrase-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      COMPREPLY=($(compgen -W "--html --headers --raw --save-attachments --force --mark-read --offline -f --folder -a --account --json --no-color --no-input --timeout --trace --passphrase-file --help" -- "$cur")) ;;
    send)
      case "$prev" in
        --body-file|--html-file|--attach|--passphrase-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      COMPREPLY=($(compgen -W "--to --cc --bcc --subject --body --body-file --html --html-file --attach --from --reply-to --header --raw --dry-run --no-save -a --account --json --no-color --no-input --timeout --trace --passphrase-file --help" -- "$cur")) ;;
    mark)
      case "$prev" in
        -f|--folder) COMPREPLY=($(compgen -W "@inbox @sent @drafts @trash @junk @archive @all @flagged" -- "$cur")); return ;;
        --passphrase-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      COMPREPLY=($(compgen -W "--read --unread --flagged --unflagged --query -f --folder -a --account --json --no-color --no-input --timeout --trace --passphrase-file --help" -- "$cur")) ;;
    move)
      case "$prev" in
        --to) COMPREPLY=($(compgen -W "@inbox @sent @drafts @trash @junk @archive @all @flagged" -- "$cur")); return ;;
        -f|--folder) COMPREPLY=($(compgen -W "@inbox @sent @drafts @trash @junk @archive @all @flagged" -- "$cur")); return ;;
        --passphrase-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      COMPREPLY=($(compgen -W "--to --trash --expunge --yes --query -f --folder -a --account --json --no-color --no-input --timeout --trace --passphrase-file --help" -- "$cur")) ;;
    search)
      case "$prev" in
        -f|--folder) COMPREPLY=($(compgen -W "@inbox @sent @drafts @trash @junk @archive @all @flagged" -- "$cur")); return ;;
        --passphrase-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      COMPREPLY=($(compgen -W "--all-folders --limit --page --explain --offline -f --folder -a --account --json --ndjson --no-color --no-input --timeout --trace --passphrase-file --help" -- "$cur")) ;;
    sync)
      case "$prev" in
        --folders) COMPREPLY=($(compgen -W "@inbox @sent @drafts @trash @junk @archive @all @flagged" -- "$cur")); return ;;
        --passphrase-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      esac
      COMPREPLY=($(compgen -W "--folders --full --since --headers-only --max-body --wait --max-time --on-new --unread-only --mark-read --rebuild-cache -a --account --json --ndjson --no-color --no-input --timeout --trace --passphrase-file --help" -- "$cur")) ;;
  esac
}
complete -F _mailops mailops
